#!/usr/bin/env node
// Committed launcher, so npm can link the bin before the TypeScript build has produced dist/.
require('../dist/cli/main.js').run()
