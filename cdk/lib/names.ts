// Stack names, shared by the app and the scripts that read its outputs (kept free of aws-cdk-lib so the
// scripts start fast).
export const GRANTS_STACK_NAME = "CytoskelGrants";
export const BOT_STACK_NAME = "CytoskelBot";
