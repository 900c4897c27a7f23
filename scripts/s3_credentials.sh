# shellcheck shell=bash
# Get temporary S3 credentials for a prefix of the Cell Painting Gallery staging bucket and export them
# into the current shell. Needs bash, the AWS CLI and jq. SOURCE it, don't run it:
#
#   source scripts/s3_credentials.sh cpg0042/ [READ|WRITE|READWRITE]
#   aws s3 cp results.csv s3://staging-cellpainting-gallery/cpg0042/
#
# It trades the long-lived keys you received (profile cpg_staging in ~/.aws/credentials) for credentials
# that last 12 hours and only reach what your access grants allow (S3 Access Grants GetDataAccess).
#
# Settings (environment, all optional):
#   CYTOSKEL_PROFILE     profile holding your keys (default: $AWS_PROFILE, else cpg_staging;
#                        set it to "" to use keys already in the environment)
#   CYTOSKEL_PERMISSION  READ, WRITE or READWRITE (default READWRITE; the second argument wins)
#   CYTOSKEL_DURATION    seconds, 900-43200 (default 43200 = 12 h)
#   CYTOSKEL_ACCOUNT_ID  the bucket's AWS account (default: the account of your keys)
#   CYTOSKEL_BUCKET      default staging-cellpainting-gallery
#   CYTOSKEL_REGION      region of the bucket's Access Grants (default us-east-1)

_cytoskel_s3_credentials() {
  local bucket="${CYTOSKEL_BUCKET:-staging-cellpainting-gallery}"
  local region="${CYTOSKEL_REGION:-us-east-1}"
  local permission="${2:-${CYTOSKEL_PERMISSION:-READWRITE}}"
  local duration="${CYTOSKEL_DURATION:-43200}"
  local profile="${CYTOSKEL_PROFILE-${AWS_PROFILE:-cpg_staging}}"
  local prefix="${1:-}"

  local tool
  for tool in aws jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "s3_credentials: '$tool' is not installed; it is needed (see docs/access-cpg-staging.md)." >&2
      return 1
    fi
  done

  if [ -z "$prefix" ]; then
    echo "s3_credentials: give the prefix you were granted, e.g.: source s3_credentials.sh cpg0042/" >&2
    return 2
  fi
  # cpg0042, cpg0042/, cpg0042/* and s3://<bucket>/cpg0042/ all mean the prefix cpg0042/.
  prefix="${prefix#s3://"$bucket"/}"
  prefix="${prefix%\*}"
  prefix="${prefix%/}"
  case "/$prefix/" in
    *//* | */../* | */./* | *'*'*)
      echo "s3_credentials: refused prefix '$1': no empty, '.' or '..' segments, and '*' only at the end." >&2
      return 2
      ;;
  esac
  permission="$(tr '[:lower:]' '[:upper:]' <<<"$permission")"
  case "$permission" in
    READ | WRITE | READWRITE) ;;
    *)
      echo "s3_credentials: unknown permission '$permission'; allowed: READ, WRITE, READWRITE" >&2
      return 2
      ;;
  esac
  case "$duration" in
    '' | *[!0-9]*) duration=0 ;;
  esac
  if [ "$duration" -lt 900 ] || [ "$duration" -gt 43200 ]; then
    echo "s3_credentials: CYTOSKEL_DURATION must be 900-43200 seconds (15 min to 12 h)." >&2
    return 2
  fi

  local -a auth=()
  if [ -n "$profile" ]; then
    # An explicit --profile makes the AWS CLI ignore temporary credentials exported by an earlier run.
    auth=(--profile "$profile")
  fi

  local target="s3://$bucket/$prefix/*"
  local account="${CYTOSKEL_ACCOUNT_ID:-}"
  local output errors
  errors="$(mktemp)"
  if [ -z "$account" ]; then
    if ! account="$(aws "${auth[@]}" sts get-caller-identity --region "$region" --query Account --output text 2>"$errors")"; then
      echo "s3_credentials: could not identify your AWS account: $(tr '\n' ' ' <"$errors" | sed 's/^ *//; s/ *$//')" >&2
      _cytoskel_explain "$(cat "$errors")" "$profile" "$target" "$permission"
      rm -f "$errors"
      return 1
    fi
  fi

  if ! output="$(aws "${auth[@]}" s3control get-data-access \
    --account-id "$account" \
    --target "$target" \
    --permission "$permission" \
    --privilege Default \
    --duration-seconds "$duration" \
    --region "$region" \
    --output json 2>"$errors")"; then
    echo "Failed to get data access information: $(tr '\n' ' ' <"$errors" | sed 's/^ *//; s/ *$//')" >&2
    _cytoskel_explain "$(cat "$errors")" "$profile" "$target" "$permission"
    rm -f "$errors"
    return 1
  fi
  rm -f "$errors"

  local key secret token expiration matched
  key="$(jq -r '.Credentials.AccessKeyId' <<<"$output")"
  secret="$(jq -r '.Credentials.SecretAccessKey' <<<"$output")"
  token="$(jq -r '.Credentials.SessionToken' <<<"$output")"
  expiration="$(jq -r '.Credentials.Expiration' <<<"$output")"
  matched="$(jq -r '.MatchedGrantTarget // empty' <<<"$output")"
  if [ -z "$key" ] || [ "$key" = null ] || [ -z "$token" ] || [ "$token" = null ]; then
    echo "s3_credentials: GetDataAccess answered without credentials; nothing was changed." >&2
    return 1
  fi

  export AWS_ACCESS_KEY_ID="$key"
  export AWS_SECRET_ACCESS_KEY="$secret"
  export AWS_SESSION_TOKEN="$token"
  echo "AWS credentials have been set successfully."
  echo "They cover ${matched:-$target} ($permission) until $expiration."
}

_cytoskel_explain() {
  local text="$1" profile="$2" target="$3" permission="$4"
  case "$text" in
    *"could not be found"*)
      echo "  -> The profile '$profile' is missing: add your keys to ~/.aws/credentials under [$profile]," \
        "or set CYTOSKEL_PROFILE." >&2
      ;;
    *InvalidClientTokenId* | *SignatureDoesNotMatch* | *InvalidAccessKeyId* | *ExpiredToken*)
      echo "  -> AWS rejected the keys: they are mistyped, deactivated or expired. Check [$profile] in" \
        "~/.aws/credentials, and open a new shell if old temporary credentials are exported." >&2
      ;;
    *AccessGrantsInstanceNotExists*)
      echo "  -> No Access Grants here: wrong region or wrong account. The staging bucket's grants are in" \
        "us-east-1; check CYTOSKEL_REGION, CYTOSKEL_ACCOUNT_ID and which keys are in use." >&2
      ;;
    *"not authorized to perform"*":access-grants/default "*)
      # IAM judges before the instance is looked up: outside us-east-1 this is the answer too.
      if [[ "$text" != *":s3:us-east-1:"* ]]; then
        echo "  -> Wrong region: the staging bucket's grants are in us-east-1; check CYTOSKEL_REGION." >&2
      else
        echo "  -> These keys may not call s3:GetDataAccess: ask an admin to add the user to the uploaders group." >&2
      fi
      ;;
    *"not authorized to perform"*)
      echo "  -> These keys may not call s3:GetDataAccess: ask an admin to add the user to the uploaders group." >&2
      ;;
    *AccessDenied*)
      echo "  -> No access grant gives you $permission on $target. Check the prefix (and" \
        "CYTOSKEL_PERMISSION; a READ grant does not give READWRITE), or ask an admin for a grant." >&2
      ;;
  esac
}

if (return 0 2>/dev/null); then
  _cytoskel_s3_credentials "$@"
  _cytoskel_status=$?
  unset -f _cytoskel_s3_credentials _cytoskel_explain
  return "$_cytoskel_status" 2>/dev/null || true
else
  echo "s3_credentials.sh must be sourced so the credentials reach your shell:" >&2
  echo "  source ${BASH_SOURCE[0]:-s3_credentials.sh} cpg0042/" >&2
  exit 2
fi
