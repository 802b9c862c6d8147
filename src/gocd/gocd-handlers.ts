import type { AgentService } from '../agents/agent-service.js';
import type { ProfileCatalog } from '../agents/profile-catalog.js';
import type { UserNotices } from '../agents/request-notices.js';
import type { GocdRequestBodies } from '../contract/generated/gocd-messages.js';
import type { Logger } from '../logger.js';
import type { GocdCommands } from './commands.js';
import { agentLifecycleHandlers, type GeneralHealth } from './handlers/agent-lifecycle.handlers.js';
import { migrateConfig } from './handlers/migrate-config.handler.js';
import { pluginInfoHandlers } from './handlers/plugin-info.handlers.js';
import { statusReportHandlers } from './handlers/status-report.handlers.js';
import { validateProfileHandlers } from './handlers/validate-profile.handlers.js';
import type { GocdRequestContext } from './messages.js';
import type { GocdRequestName } from './request-names.js';
import type { StatusReports } from './status-reports.js';

/** The body of a GoCD request, as openapi.yaml specifies it (`x-gocd-requests`; checked before a handler sees it). */
export type GocdRequestBody<N extends GocdRequestName> = GocdRequestBodies[N];

/** One GoCD request: takes its (schema-checked) body, returns exactly the reply GoCD expects. */
export type GocdHandler<N extends GocdRequestName> = (body: GocdRequestBody<N>, context: GocdRequestContext) => unknown;

/** The handler of every request name; the type makes a missing name, or a handler of the wrong body, a compile error. */
export type GocdHandlers = { readonly [N in GocdRequestName]: GocdHandler<N> };

export interface GocdHandlerDeps {
  agents: AgentService;
  commands: GocdCommands;
  profiles: ProfileCatalog;
  logger: Logger;
  notices: UserNotices;
  reports: StatusReports;
  generalHealth?: GeneralHealth;
}

/** The handlers of every GoCD request name. */
export function createGocdHandlers(deps: GocdHandlerDeps): GocdHandlers {
  return {
    ...pluginInfoHandlers(deps.profiles),
    ...validateProfileHandlers(deps.profiles),
    'cd.go.elastic-agent.migrate-config': migrateConfig,
    ...agentLifecycleHandlers(deps.agents, deps.commands, deps.logger, deps.notices, deps.generalHealth),
    ...statusReportHandlers(deps.reports, deps.commands),
  };
}
