import { parse as parseYaml } from 'yaml';
import { type LoadedConfig, type LoadOptions, parseConfigWith } from './config-loader.js';

/**
 * Parses, interpolates, defaults and validates a YAML config text (JSON is YAML too), synchronously: for the CLI and
 * tests. Its own module, so what never reads YAML (a Lambda's JSON config) never loads the YAML parser.
 */
export function parseConfig(text: string, source: string, options: LoadOptions = {}): LoadedConfig {
  return parseConfigWith(parseYaml, text, source, options);
}
