import { defineStoreSuite } from "./suite.ts";

defineStoreSuite("dynamodb-local");
