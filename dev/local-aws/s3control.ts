// S3 Control (REST-XML): the S3 Access Grants operations, with x-amz-account-id checks, NextToken /
// MaxResults paging and the error codes/statuses AWS documents for Access Grants.

import { randomBytes } from "node:crypto";
import { noted } from "../secrets-seen.ts";
import type { Check } from "./authz/evaluate.ts";
import type { Caller } from "./iam.ts";
import {
  grantsId,
  iamId,
  type LocalAwsState,
  type LocalGrant,
  type LocalInstance,
  type LocalLocation,
  takeInjectedFault,
} from "./state.ts";
import { AwsFault, parseXmlRoot, requestId, type XmlObject, xmlDocument } from "./wire.ts";

export const S3CONTROL_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/";
const BASE = "/v20180820/";

export interface S3ControlRequest {
  method: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  region: string;
  caller: Caller;
}

export interface S3ControlAnswer {
  operation: string;
  xml: string;
}

const PERMISSIONS = new Set(["READ", "WRITE", "READWRITE"]);

function noInstance(): AwsFault {
  return new AwsFault("AccessGrantsInstanceNotExistsError", 404, "Access Grants Instance does not exist");
}

function instanceFor(state: LocalAwsState, region: string): LocalInstance {
  const instance = state.accessGrants.get(region);
  if (!instance) throw noInstance();
  return instance;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
}

/** Offset-based opaque tokens, validated so a foreign token is refused rather than misread. */
function paginate<T>(items: T[], url: URL): { items: T[]; nextToken?: string } {
  const maxText = url.searchParams.get("maxResults");
  const max = maxText === null || maxText === "" ? 1000 : Number(maxText);
  if (!Number.isInteger(max) || max < 0 || max > 1000) {
    throw new AwsFault("InvalidRequest", 400, "MaxResults must be between 0 and 1000");
  }
  const size = max === 0 ? 1000 : max;
  const token = url.searchParams.get("nextToken");
  let start = 0;
  if (token) {
    const m = /^next:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
    if (!m) throw new AwsFault("InvalidRequest", 400, "The continuation token provided is invalid");
    start = Number(m[1]);
  }
  const slice = items.slice(start, start + size);
  const next = start + size;
  return next < items.length
    ? { items: slice, nextToken: Buffer.from(`next:${next}`).toString("base64url") }
    : { items: slice };
}

function grantXml(g: LocalGrant): XmlObject {
  return {
    CreatedAt: g.createdAt,
    AccessGrantId: g.id,
    AccessGrantArn: g.arn,
    Grantee: { GranteeType: g.granteeType, GranteeIdentifier: g.granteeIdentifier },
    Permission: g.permission,
    AccessGrantsLocationId: g.locationId,
    AccessGrantsLocationConfiguration: { S3SubPrefix: g.subPrefix },
    GrantScope: g.scope,
  };
}

function locationXml(l: LocalLocation): XmlObject {
  return {
    CreatedAt: l.createdAt,
    AccessGrantsLocationId: l.id,
    AccessGrantsLocationArn: l.arn,
    LocationScope: l.scope,
    IAMRoleArn: l.iamRoleArn,
  };
}

/** "s3://", "s3://bucket", "s3://bucket/prefix" (optionally ending in "/" or "/*"). */
function validLocationScope(scope: string): boolean {
  if (scope === "s3://") return true;
  return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^*]*)?(\*)?$/.test(scope) && !scope.includes("..");
}

/** AWS: "the S3SubPrefix is appended to the location scope creating the grant scope" (AccessGrantsLocationConfiguration). */
function joinScope(location: string, subPrefix: string): string {
  if (location === "s3://") return `s3://${subPrefix}`;
  const base = location.replace(/\/\*$/, "/");
  return base.endsWith("/") ? `${base}${subPrefix}` : `${base}/${subPrefix}`;
}

/**
 * A sub-prefix must stay inside its location: no leading "/", no "." or ".." or empty segments, and
 * "*" only as the last character.
 */
function subPrefixProblem(subPrefix: string): string | undefined {
  if (subPrefix.length > 2000) return "S3SubPrefix is too long";
  if (subPrefix.startsWith("/")) return "S3SubPrefix must not start with /";
  const body = subPrefix.endsWith("*") ? subPrefix.slice(0, -1) : subPrefix;
  if (body.includes("*")) return "S3SubPrefix may contain * only at the end";
  const segments = body.split("/");
  if (segments.slice(0, -1).some((s) => s === "" || s === "." || s === ".."))
    return "S3SubPrefix must stay inside the location";
  if (segments.at(-1) === "." || segments.at(-1) === "..") return "S3SubPrefix must stay inside the location";
  return undefined;
}

function scopeCovers(grantScope: string, target: string): boolean {
  if (grantScope.endsWith("*")) {
    const prefix = grantScope.slice(0, -1);
    return (target.endsWith("*") ? target.slice(0, -1) : target).startsWith(prefix);
  }
  return grantScope === target;
}

function fakeCredentials(seconds: number) {
  return {
    AccessKeyId: iamId("ASIA"),
    SecretAccessKey: noted("secret access key", `LOCALFAKE${randomBytes(16).toString("hex")}`),
    SessionToken: noted("session token", `LOCAL-FAKE-SESSION-TOKEN-${randomBytes(24).toString("base64url")}`),
    Expiration: new Date(Date.now() + seconds * 1000),
  };
}

/**
 * The vended credentials are, on AWS, a session of the location's IAM role (Access Grants assumes it and
 * scopes it down to the grant), so STS GetCallerIdentity names that role. The stand-in records them as
 * such a session so clients signing with them are recognised; the session name AWS uses is not
 * confirmed offline (here: the grantee's user name). The S3 data plane is not served here, so the
 * session carries no policies of its own.
 */
function registerVendedSession(
  state: LocalAwsState,
  location: LocalLocation | undefined,
  credentials: ReturnType<typeof fakeCredentials>,
  caller: Caller,
): void {
  const roleArn = location?.iamRoleArn ?? "";
  const i = roleArn.indexOf(":role/");
  if (i < 0) return;
  const withPath = roleArn.slice(i + ":role/".length);
  const roleName = withPath.split("/").pop() ?? withPath;
  const key = roleName.toLowerCase();
  if (!state.iam.roles.has(key)) {
    const path = `/${withPath.slice(0, withPath.length - roleName.length)}`.replace(/\/\/$/, "/");
    state.iam.roles.set(key, { roleName, roleId: iamId("AROA"), arn: roleArn, path, policies: new Map() });
  }
  state.iam.roleSessions.set(credentials.AccessKeyId, {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    roleName,
    sessionName: caller.arn.split("/").pop() ?? "access-grants",
    expiresAt: credentials.Expiration,
  });
}

type Route = {
  method: string;
  path: RegExp;
  operation: string;
  handle: (state: LocalAwsState, req: S3ControlRequest, match: RegExpExecArray) => XmlObject | undefined;
};

const routes: Route[] = [
  {
    method: "POST",
    path: /^accessgrantsinstance$/,
    operation: "CreateAccessGrantsInstance",
    handle(state, req) {
      if (state.accessGrants.has(req.region)) {
        throw new AwsFault("AccessGrantsInstanceAlreadyExists", 409, "Access Grants Instance already exists");
      }
      const instance: LocalInstance = {
        id: "default",
        arn: `arn:aws:s3:${req.region}:${state.accountId}:access-grants/default`,
        region: req.region,
        createdAt: new Date(),
        locations: new Map(),
        grants: new Map(),
      };
      state.accessGrants.set(req.region, instance);
      return {
        CreatedAt: instance.createdAt,
        AccessGrantsInstanceId: instance.id,
        AccessGrantsInstanceArn: instance.arn,
      };
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstance$/,
    operation: "GetAccessGrantsInstance",
    handle(state, req) {
      const instance = instanceFor(state, req.region);
      return {
        AccessGrantsInstanceArn: instance.arn,
        AccessGrantsInstanceId: instance.id,
        CreatedAt: instance.createdAt,
      };
    },
  },
  {
    method: "DELETE",
    path: /^accessgrantsinstance$/,
    operation: "DeleteAccessGrantsInstance",
    handle(state, req) {
      const instance = instanceFor(state, req.region);
      if (instance.locations.size) {
        throw new AwsFault(
          "AccessGrantsInstanceNotEmptyError",
          400,
          "Please clean up locations before deleting the access grants instance",
        );
      }
      state.accessGrants.delete(req.region);
      return undefined;
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstances$/,
    operation: "ListAccessGrantsInstances",
    handle(state, req) {
      const p = paginate([...state.accessGrants.values()], req.url);
      return {
        NextToken: p.nextToken,
        AccessGrantsInstancesList: {
          AccessGrantsInstance: p.items.map((i) => ({
            AccessGrantsInstanceId: i.id,
            AccessGrantsInstanceArn: i.arn,
            CreatedAt: i.createdAt,
          })),
        },
      };
    },
  },
  {
    method: "POST",
    path: /^accessgrantsinstance\/location$/,
    operation: "CreateAccessGrantsLocation",
    handle(state, req) {
      const instance = instanceFor(state, req.region);
      const body = parseXmlRoot(req.body);
      const scope = str(body.LocationScope) ?? "";
      const role = str(body.IAMRoleArn) ?? "";
      if (!validLocationScope(scope)) {
        throw new AwsFault(
          "InvalidAccessGrantsLocation",
          400,
          "The specified Access Grants Location is invalid",
        );
      }
      if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(role)) {
        throw new AwsFault("InvalidIamRole", 400, "The specified IAM Role is invalid");
      }
      if ([...instance.locations.values()].some((l) => l.scope === scope)) {
        throw new AwsFault(
          "AccessGrantsLocationAlreadyExistsError",
          409,
          "The specified access grants location already exists",
        );
      }
      // AWS names the location for "s3://" "default"; other locations get generated IDs.
      const id = scope === "s3://" ? "default" : grantsId();
      const location: LocalLocation = {
        id,
        arn: `${instance.arn}/location/${id}`,
        scope,
        iamRoleArn: role,
        createdAt: new Date(),
      };
      instance.locations.set(id, location);
      return locationXml(location);
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstance\/locations$/,
    operation: "ListAccessGrantsLocations",
    handle(state, req) {
      const instance = instanceFor(state, req.region);
      const scope = req.url.searchParams.get("locationscope");
      const all = [...instance.locations.values()].filter((l) => !scope || l.scope === scope);
      const p = paginate(all, req.url);
      return {
        NextToken: p.nextToken,
        AccessGrantsLocationsList: { AccessGrantsLocation: p.items.map(locationXml) },
      };
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstance\/location\/([^/]+)$/,
    operation: "GetAccessGrantsLocation",
    handle(state, req, m) {
      const instance = instanceFor(state, req.region);
      const location = instance.locations.get(decodeURIComponent(m[1] ?? ""));
      if (!location) {
        throw new AwsFault(
          "NoSuchAccessGrantsLocationError",
          404,
          "The specified access grants location does not exist",
        );
      }
      return locationXml(location);
    },
  },
  {
    method: "DELETE",
    path: /^accessgrantsinstance\/location\/([^/]+)$/,
    operation: "DeleteAccessGrantsLocation",
    handle(state, req, m) {
      const instance = instanceFor(state, req.region);
      const id = decodeURIComponent(m[1] ?? "");
      if (!instance.locations.has(id)) {
        throw new AwsFault(
          "NoSuchAccessGrantsLocationError",
          404,
          "The specified access grants location does not exist",
        );
      }
      if ([...instance.grants.values()].some((g) => g.locationId === id)) {
        throw new AwsFault(
          "AccessGrantsLocationNotEmptyError",
          400,
          "Please clean up access grants before deleting access grants location",
        );
      }
      instance.locations.delete(id);
      return undefined;
    },
  },
  {
    method: "POST",
    path: /^accessgrantsinstance\/grant$/,
    operation: "CreateAccessGrant",
    handle(state, req) {
      const instance = instanceFor(state, req.region);
      const body = parseXmlRoot(req.body);
      const locationId = str(body.AccessGrantsLocationId) ?? "";
      const location = instance.locations.get(locationId);
      if (!location) {
        throw new AwsFault(
          "NoSuchAccessGrantsLocationError",
          404,
          "The specified access grants location does not exist",
        );
      }
      const grantee = obj(body.Grantee);
      const granteeType = str(grantee.GranteeType) ?? "";
      const granteeIdentifier = str(grantee.GranteeIdentifier) ?? "";
      const permission = str(body.Permission) ?? "";
      const subPrefix = str(obj(body.AccessGrantsLocationConfiguration).S3SubPrefix) ?? "";
      if (!PERMISSIONS.has(permission))
        throw new AwsFault("InvalidAccessGrant", 400, "The specified Access Grant is invalid");
      if (granteeType !== "IAM" && granteeType !== "DIRECTORY_USER" && granteeType !== "DIRECTORY_GROUP") {
        throw new AwsFault("InvalidAccessGrant", 400, "The specified Access Grant is invalid");
      }
      if (granteeType === "IAM" && !/^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/.+/.test(granteeIdentifier)) {
        throw new AwsFault("InvalidAccessGrant", 400, "The specified Access Grant is invalid");
      }
      const problem = subPrefixProblem(subPrefix);
      if (problem)
        throw new AwsFault("InvalidAccessGrant", 400, `The specified Access Grant is invalid: ${problem}`);
      const scope = joinScope(location.scope, subPrefix || "*");
      const duplicate = [...instance.grants.values()].some(
        (g) =>
          g.granteeType === granteeType &&
          g.granteeIdentifier === granteeIdentifier &&
          g.scope === scope &&
          g.permission === permission,
      );
      if (duplicate)
        throw new AwsFault("AccessGrantAlreadyExists", 409, "The specified access grant already exists");
      const id = grantsId();
      const grant: LocalGrant = {
        id,
        arn: `${instance.arn}/grant/${id}`,
        granteeType,
        granteeIdentifier,
        locationId,
        subPrefix,
        scope,
        permission: permission as LocalGrant["permission"],
        createdAt: new Date(),
      };
      instance.grants.set(id, grant);
      return grantXml(grant);
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstance\/grants$/,
    operation: "ListAccessGrants",
    handle(state, req) {
      const instance = instanceFor(state, req.region);
      const q = req.url.searchParams;
      const type = q.get("granteetype");
      const identifier = q.get("granteeidentifier");
      const permission = q.get("permission");
      const scope = q.get("grantscope");
      if (identifier && !type) {
        throw new AwsFault(
          "InvalidRequest",
          400,
          "GranteeType is required when GranteeIdentifier is specified",
        );
      }
      const all = [...instance.grants.values()].filter(
        (g) =>
          (!type || g.granteeType === type) &&
          (!identifier || g.granteeIdentifier === identifier) &&
          (!permission || g.permission === permission) &&
          (!scope || g.scope === scope),
      );
      const p = paginate(all, req.url);
      return { NextToken: p.nextToken, AccessGrantsList: { AccessGrant: p.items.map(grantXml) } };
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstance\/grant\/([^/]+)$/,
    operation: "GetAccessGrant",
    handle(state, req, m) {
      const grant = instanceFor(state, req.region).grants.get(decodeURIComponent(m[1] ?? ""));
      if (!grant)
        throw new AwsFault("NoSuchAccessGrantError", 404, "The specified access grant does not exist");
      return grantXml(grant);
    },
  },
  {
    method: "DELETE",
    path: /^accessgrantsinstance\/grant\/([^/]+)$/,
    operation: "DeleteAccessGrant",
    handle(state, req, m) {
      const instance = instanceFor(state, req.region);
      if (!instance.grants.delete(decodeURIComponent(m[1] ?? ""))) {
        throw new AwsFault("NoSuchAccessGrantError", 404, "The specified access grant does not exist");
      }
      return undefined;
    },
  },
  {
    method: "GET",
    path: /^accessgrantsinstance\/dataaccess$/,
    operation: "GetDataAccess",
    handle(state, req) {
      const q = req.url.searchParams;
      const target = q.get("target") ?? "";
      const permission = q.get("permission") ?? "";
      const durationText = q.get("durationSeconds");
      const privilege = q.get("privilege") ?? "Default";
      const duration = durationText ? Number(durationText) : 3600;
      if (!target.startsWith("s3://"))
        throw new AwsFault("InvalidRequest", 400, "Target must be an S3 URI (s3://...)");
      if (!PERMISSIONS.has(permission))
        throw new AwsFault("InvalidRequest", 400, `Invalid permission: ${permission}`);
      if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
        throw new AwsFault("InvalidRequest", 400, "DurationSeconds must be between 900 and 43200");
      }
      if (privilege !== "Default" && privilege !== "Minimal") {
        throw new AwsFault("InvalidRequest", 400, `Invalid privilege: ${privilege}`);
      }
      const instance = instanceFor(state, req.region);
      const caller = req.caller;
      let best: LocalGrant | undefined;
      for (const g of instance.grants.values()) {
        if (g.granteeType !== "IAM" || g.granteeIdentifier !== caller.arn) continue;
        if (g.permission !== "READWRITE" && g.permission !== permission) continue;
        if (!scopeCovers(g.scope, target)) continue;
        if (!best || g.scope.length > best.scope.length) best = g;
      }
      if (!best) {
        throw new AwsFault(
          "AccessDenied",
          403,
          `You do not have ${permission} permissions to the requested S3 Prefix: ${target}`,
        );
      }
      const credentials = fakeCredentials(duration);
      registerVendedSession(state, instance.locations.get(best.locationId), credentials, caller);
      const matchedGrantTarget = privilege === "Minimal" ? target : best.scope;
      state.dataAccessCalls.push({
        callerArn: caller.arn,
        accessKeyId: caller.accessKeyId,
        target,
        permission,
        durationSeconds: duration,
        privilege,
        grantId: best.id,
        matchedGrantTarget,
        expiration: credentials.Expiration,
      });
      return {
        Credentials: credentials,
        MatchedGrantTarget: matchedGrantTarget,
        Grantee: { GranteeType: "IAM", GranteeIdentifier: caller.arn },
      };
    },
  },
];

export function isS3ControlPath(pathname: string): boolean {
  return pathname.startsWith(BASE);
}

/**
 * What IAM checks for an Access Grants request: `s3:<Operation>` on the instance, location or grant ARN
 * (a grant or location being created is judged on a fresh ID's ARN), with s3:AccessGrantScope /
 * s3:AccessGrantsLocationScope where the reference lists them. Registering a location also passes its
 * role: AWS's API reference names iam:PassRole on it as an additional permission.
 */
function s3ControlChecks(
  state: LocalAwsState,
  operation: string,
  req: S3ControlRequest,
  m: RegExpExecArray,
): Check[] {
  const instance = state.accessGrants.get(req.region);
  const action = `s3:${operation}`;
  const context: Record<string, string> = { "s3:ResourceAccount": state.accountId };
  const id = decodeURIComponent(m[1] ?? "");
  switch (operation) {
    case "CreateAccessGrant": {
      const body = parseXmlRoot(req.body);
      const location = instance?.locations.get(str(body.AccessGrantsLocationId) ?? "");
      const subPrefix = str(obj(body.AccessGrantsLocationConfiguration).S3SubPrefix) ?? "";
      if (location) context["s3:AccessGrantScope"] = joinScope(location.scope, subPrefix || "*");
      return [{ action, vars: { Token: grantsId() }, context }];
    }
    case "GetAccessGrant":
    case "DeleteAccessGrant": {
      const grant = instance?.grants.get(id);
      if (grant) context["s3:AccessGrantScope"] = grant.scope;
      return [{ action, vars: { Token: id }, context }];
    }
    case "CreateAccessGrantsLocation": {
      const body = parseXmlRoot(req.body);
      const scope = str(body.LocationScope);
      if (scope) context["s3:AccessGrantsLocationScope"] = scope;
      const role = str(body.IAMRoleArn) ?? "";
      const roleName = role.slice(role.indexOf(":role/") + ":role/".length);
      return [
        { action, vars: { Token: grantsId() }, context },
        ...(role.includes(":role/")
          ? [{ action: "iam:PassRole", vars: { RoleNameWithPath: roleName } }]
          : []),
      ];
    }
    case "GetAccessGrantsLocation":
    case "DeleteAccessGrantsLocation": {
      const location = instance?.locations.get(id);
      if (location) context["s3:AccessGrantsLocationScope"] = location.scope;
      return [{ action, vars: { Token: id }, context }];
    }
    default:
      // The instance itself (Create/Get/Delete instance, ListAccessGrants, ListAccessGrantsLocations,
      // GetDataAccess) or "*" (ListAccessGrantsInstances).
      return [{ action, context }];
  }
}

/**
 * Handle one S3 Control request; returns the operation name and XML, or throws AwsFault. `authorize`
 * judges the request's checks and throws AccessDenied (nothing is done then).
 */
export async function handleS3Control(
  state: LocalAwsState,
  req: S3ControlRequest,
  authorize: (checks: Check[]) => Promise<void>,
): Promise<S3ControlAnswer> {
  const rest = req.url.pathname.slice(BASE.length);
  for (const route of routes) {
    if (route.method !== req.method) continue;
    const m = route.path.exec(rest);
    if (!m) continue;
    const header = req.headers["x-amz-account-id"];
    const accountId = Array.isArray(header) ? header[0] : header;
    if (!accountId) {
      throw Object.assign(
        new AwsFault("InvalidRequest", 400, "Missing required header for this request: x-amz-account-id"),
        {
          operation: route.operation,
        },
      );
    }
    if (!/^\d{12}$/.test(accountId)) {
      throw Object.assign(new AwsFault("InvalidRequest", 400, "Invalid account id"), {
        operation: route.operation,
      });
    }
    if (accountId !== state.accountId) {
      throw Object.assign(new AwsFault("AccessDenied", 403, "Access Denied"), { operation: route.operation });
    }
    const injected = takeInjectedFault(state, route.operation);
    if (injected) {
      throw Object.assign(new AwsFault(injected.code, injected.status, injected.message), {
        operation: route.operation,
      });
    }
    try {
      await authorize(s3ControlChecks(state, route.operation, req, m));
      const result = route.handle(state, req, m);
      return {
        operation: route.operation,
        xml: result ? xmlDocument(`${route.operation}Result`, S3CONTROL_NS, result) : "",
      };
    } catch (err) {
      throw Object.assign(err as object, { operation: route.operation });
    }
  }
  throw new AwsFault(
    "MethodNotAllowed",
    405,
    `The specified method is not allowed against this resource: ${req.method} ${req.url.pathname}`,
  );
}

export function s3ControlErrorXml(fault: AwsFault): string {
  return `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Code>${fault.code}</Code><Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
