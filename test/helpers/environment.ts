import { inject } from 'vitest';

// Test files import domain modules that read these at load time: set them first.
Object.assign(process.env, inject('cloud').env);
