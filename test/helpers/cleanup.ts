// Runs after every test file (jest setupFilesAfterEnv): removes the temporary folders it made.

import { afterAll } from '@jest/globals';
import { removeTempDirs } from './server';

afterAll(removeTempDirs);
