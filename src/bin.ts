#!/usr/bin/env node
// The `pws` command (package.json "bin"): PWS as `npm start` runs it, except that with no folder
// named anywhere and no ./static it serves the current folder.

import './sigusr1';
import { main } from './main';

main(true);
