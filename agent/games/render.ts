import {
  type GameDefinition,
  type InstanceSpec,
  PLACEHOLDERS,
  type Placeholder,
  templateProblem,
} from './definitions.js';
import { ArgTemplateError } from './errors.js';

/**
 * Values may only be plain words and paths: no whitespace, quotes, `;`, `+` (Quake engines
 * split their command line on `+`, so `x +set rcon_password y` would be a second command) and
 * no leading `-` (it would read as an option). Nothing here is ever parsed by a shell, but the
 * game itself parses its argv.
 */
const SAFE_VALUE = /^[A-Za-z0-9_/][A-Za-z0-9._/:@=,-]*$/;

const checkValue = (name: Placeholder, value: string, template: string): string => {
  if (value.length === 0 || value.length > 1024 || !SAFE_VALUE.test(value)) {
    throw new ArgTemplateError(
      'E_BAD_ARG_VALUE',
      template,
      `value for {${name}} is not a plain word or path`,
    );
  }
  if (value.split('/').includes('..')) {
    throw new ArgTemplateError('E_BAD_ARG_VALUE', template, `value for {${name}} must not contain ".."`);
  }
  return value;
};

const placeholderValue = (
  name: Placeholder,
  def: GameDefinition,
  instance: InstanceSpec,
): string | undefined => {
  switch (name) {
    case 'port':
      return String(instance.port);
    case 'maxplayers':
      return String(instance.maxPlayers ?? def.maxPlayers);
    case 'config':
      return instance.config ?? def.defaultConfig;
    case 'control':
      return instance.control;
    case 'host':
      return instance.host;
  }
};

/**
 * Fills an argument template for one instance. Returns an argv array for spawn (no shell).
 * Only the known placeholders are substituted; anything else in braces, an unbalanced brace,
 * a missing value or an unsafe value is refused with an ArgTemplateError.
 */
export const renderArgs = (def: GameDefinition, instance: InstanceSpec): string[] =>
  def.args.map((template) => {
    const problem = templateProblem(template);
    if (problem) throw new ArgTemplateError('E_BAD_TEMPLATE', template, `argument template: ${problem}`);
    return template.replace(/\{([^{}]*)\}/g, (_match, raw: string) => {
      const name = raw as Placeholder;
      if (!PLACEHOLDERS.includes(name)) {
        throw new ArgTemplateError('E_BAD_TEMPLATE', template, `unknown placeholder {${raw}}`);
      }
      const value = placeholderValue(name, def, instance);
      if (value === undefined) {
        throw new ArgTemplateError(
          'E_BAD_ARG_VALUE',
          template,
          `instance '${instance.name}' has no {${name}}`,
        );
      }
      return checkValue(name, value, template);
    });
  });
