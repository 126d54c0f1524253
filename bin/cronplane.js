#!/usr/bin/env node
// The `cronplane` command: loads the TypeScript CLI through tsx (the agent ships as a bundle instead).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
