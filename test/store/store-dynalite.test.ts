import { defineStoreSuite } from "./suite.ts";

defineStoreSuite("dynalite");
