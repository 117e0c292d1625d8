export {
  CONFIG_ID_PATTERN,
  type CompleteConfigFile,
  type ConfigFile,
  type ConfigProblem,
  type ConfigValidation,
  configFileSchema,
  type FeatureConfig,
  formatConfigPath,
  type PackageConfig,
  type PlanConfig,
  validateConfigFile,
} from './config-schema.ts';
export { BUILT_IN_CONFIG_SOURCE, defaultConfig } from './default-config.ts';
export {
  CONFIG_ENV_VAR,
  checkConfigCovers,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  parseConfig,
} from './load-config.ts';
