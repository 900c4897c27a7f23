import { defineStoreSuite } from "./suite.ts";

defineStoreSuite("moto");
