/** One jest run over every workspace; ts-jest transpiles only, because tsconfig sets isolatedModules (typechecking is `npm run typecheck`). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/protocol/test', '<rootDir>/functions/test', '<rootDir>/client-sdk/test', '<rootDir>/embedded/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
    // jose 6 (pulled by firebase-admin 14) ships ESM only; Jest's CommonJS runtime cannot load it,
    // so ts-jest turns its .js files into CommonJS.
    '/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleNameMapper: {
    '^@lifeboat/protocol$': '<rootDir>/protocol/src/index.ts',
    '^@lifeboat/engine$': '<rootDir>/functions/src/index.ts',
    '^@lifeboat/engine/(.*)$': '<rootDir>/functions/src/$1',
    '^@lifeboat/client-sdk$': '<rootDir>/client-sdk/src/index.ts',
    '^@lifeboat/client-sdk/node$': '<rootDir>/client-sdk/src/node/index.ts',
  },
  testTimeout: 30000,
};
