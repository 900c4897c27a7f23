"""moto_server with one check relaxed: S3 Access Grants ARNs (which carry a region) in IAM policies.

IAM accepts identity policies naming arn:aws:s3:<region>:<account>:access-grants/default and its
/location/<id> and /grant/<id> children (the Service Authorization Reference's accessgrantsinstance,
accessgrantslocation and accessgrant resource types); the uploaders group's only permission is
s3:GetDataAccess on the instance. moto's policy validator lets an S3 resource carry a region only
when it starts with "accesspoint/" and answers MalformedPolicyDocument for everything else. This adds
"access-grants/" to that one allow-list (every other S3 ARN with a region is still refused) and then
runs moto's own server entry point, unchanged, with moto_server's arguments.

Started by dev/moto.ts with the Python that has moto installed.
"""

import sys

from moto.iam import policy_validation

s3_rules = policy_validation.SERVICE_TYPE_REGION_INFORMATION_ERROR_ASSOCIATIONS.get("s3", {})
allowed_with_region = s3_rules.get("valid_starting_values")
if not isinstance(allowed_with_region, list):
    # moto reorganised its validator: stop loudly instead of serving the unrelaxed check.
    sys.exit(
        "dev/moto-server.py: moto.iam.policy_validation has no list "
        'SERVICE_TYPE_REGION_INFORMATION_ERROR_ASSOCIATIONS["s3"]["valid_starting_values"] any more; '
        "update the patch for this moto version"
    )
if "access-grants/" not in allowed_with_region:
    allowed_with_region.append("access-grants/")

from moto.server import main  # noqa: E402  (after the patch, like moto_server's own script)

sys.exit(main())
