// Keeping deployed logical IDs when a construct takes over resources its stack used to create itself.
// A construct that wraps one resource gives it the id "Default" instead (CDK leaves that id out of
// logical IDs, so `Table/Default/Resource` is named as `Table/Resource` was); this is for the others.
import { CfnElement, Names } from "aws-cdk-lib";
import { Construct, type IConstruct } from "constructs";

/** The logical ID CDK allocates for the CloudFormation element at `path` below a stack (its naming). */
export function stackLevelLogicalId(path: readonly string[]): string {
  // Names.nodeUniqueId names a node by its path below the root, which is what Stack.allocateLogicalId
  // does below the stack: a scratch tree with that path (never part of an app) gets the same name.
  let node: Construct = new Construct(undefined as never, "");
  for (const id of path) node = new Construct(node, id);
  return Names.nodeUniqueId(node.node);
}

/**
 * Gives every CloudFormation element under `moved` the logical ID it had when this subtree was
 * `legacyId`, a direct child of the stack, so a deploy updates those resources in place rather than
 * replacing them. Call it once `moved` is complete (elements added later keep their new IDs).
 */
export function keepStackLevelLogicalIds(moved: IConstruct, legacyId: string): void {
  for (const element of moved.node.findAll()) {
    if (!CfnElement.isCfnElement(element)) continue;
    const below = element.node.scopes.slice(moved.node.scopes.length).map((s) => s.node.id);
    element.overrideLogicalId(stackLevelLogicalId([legacyId, ...below]));
  }
}
