// The HTTPS endpoint: one HTTP API with a throttled $default stage that logs by route key, serving
// Slack's signed requests (bot) and the one-time secret links (secret-link function).
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { keepStackLevelLogicalIds } from "../logical-ids.ts";
import { joinUrl, ROBOTS_TXT_PATH, SECRET_LINK_ROUTE, SLACK_EVENTS_PATH } from "../routes.ts";

export interface PublicApiProps {
  readonly logRetentionDays: number;
}

/**
 * Built before the functions, which put its URL in the links they send: a function's URL names only
 * the API (not its routes), so the bot can both serve a route and know the URL. The routes come after
 * (serveSlack, serveSecretLinks). The HttpApi is this construct's default child, so it and its routes
 * keep the logical IDs they had as the stack's `Api`.
 */
export class PublicApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** Slash command, interactivity and event request URL. */
  readonly slackRequestUrl: string;
  /** Base of the one-time secret links (<base>/s/<id>#<key>). */
  readonly secretLinkBaseUrl: string;

  constructor(scope: Construct, id: string, props: PublicApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, "Default", {
      // HttpApi names itself after its construct id, which is now "Default": this construct's id instead.
      apiName: id,
      description: "cytoskel: Slack requests and one-time secret links",
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      // Modest limits: a team's Slack traffic is a few requests a minute; this caps abuse and cost.
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // The route key, never the raw path: a secret link's id stays out of the logs.
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            time: "$context.requestTime",
            ip: "$context.identity.sourceIp",
            route: "$context.routeKey",
            status: "$context.status",
            latencyMs: "$context.integrationLatency",
            error: "$context.integrationErrorMessage",
          }),
        ),
      },
    });
    // Both were the stack's own children: a new logical ID would delete the access logs, and replacing
    // the stage fails (the new $default stage's name is taken until the old one is gone).
    keepStackLevelLogicalIds(accessLogs, "ApiAccessLogs");
    keepStackLevelLogicalIds(this.stage, "DefaultStage");

    const baseUrl = this.stage.url;
    this.slackRequestUrl = joinUrl(baseUrl, SLACK_EVENTS_PATH);
    this.secretLinkBaseUrl = joinUrl(baseUrl, "");
  }

  /** POST /slack/events: slash commands, interactivity and events, all HMAC-signed by Slack. */
  serveSlack(handler: lambda.IFunction): void {
    const routes = this.api.addRoutes({
      path: SLACK_EVENTS_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration("BotIntegration", handler),
    });
    acknowledgePublicRoutes(
      routes,
      "Slack cannot present AWS or OAuth credentials; every request is authenticated in the function by Slack's HMAC-SHA256 request signature (signing secret) with a 5-minute timestamp window, which an API Gateway authorizer cannot check because it needs the raw body.",
    );
  }

  /**
   * GET / HEAD / POST /s/{id} and GET /robots.txt, one integration for all of them
   * (src/secret-link/handler.ts serves them all): HEAD is what link checkers send, and without the
   * robots.txt route API Gateway answers crawlers with its own 404 instead of the function's `Disallow: /`.
   */
  serveSecretLinks(handler: lambda.IFunction): void {
    const integration = new HttpLambdaIntegration("SecretLinkIntegration", handler);
    const linkRoutes = this.api.addRoutes({
      path: SECRET_LINK_ROUTE,
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.HEAD, apigwv2.HttpMethod.POST],
      integration,
    });
    const robotsRoutes = this.api.addRoutes({
      path: ROBOTS_TXT_PATH,
      methods: [apigwv2.HttpMethod.GET],
      integration,
    });
    acknowledgePublicRoutes(
      linkRoutes,
      "One-time secret link, public by design: holding the unguessable link id (128+ random bits) is the authorization, the decryption key stays in the URL fragment and never reaches the server, and POST consumes the ciphertext exactly once.",
    );
    acknowledgePublicRoutes(
      robotsRoutes,
      "robots.txt must be readable by any crawler without credentials; it is a fixed `Disallow: /` answered by the secret-link function, which reads and changes nothing for this path.",
    );
  }
}

/** cdk-nag's APIG4 (no API Gateway authorizer), acknowledged route by route with why. */
function acknowledgePublicRoutes(routes: apigwv2.HttpRoute[], reason: string): void {
  for (const route of routes) {
    Validations.of(route.node.defaultChild ?? route).acknowledge({ id: "AwsSolutions-APIG4", reason });
  }
}
