import { MemoryStore } from "../../src/ip_events/memory_store.ts";
import { storeContract } from "./store_contract.ts";

storeContract("MemoryStore", (limits) => new MemoryStore(limits));
