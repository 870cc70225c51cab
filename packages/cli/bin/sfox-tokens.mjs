#!/usr/bin/env node
// The bin is this file, not dist/esm/bin.js itself: a file that exists before
// the build, so that installing the workspace links it without a warning.
import "../dist/esm/bin.js"
