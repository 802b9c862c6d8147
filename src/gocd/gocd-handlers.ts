import type { AgentService } from '../agents/agent-service.js';
import type { UserNotices } from '../agents/request-notices.js';
import type { Logger } from '../logger.js';
import { agentLifecycleHandlers, type GeneralHealth } from './handlers/agent-lifecycle.handlers.js';
import { migrateConfig } from './handlers/migrate-config.handler.js';
import { pluginInfoHandlers } from './handlers/plugin-info.handlers.js';
import { type ExtraSections, statusReportHandlers } from './handlers/status-report.handlers.js';
import { validateProfileHandlers } from './handlers/validate-profile.handlers.js';
import type { GocdRequestName } from './request-names.js';

/** One GoCD request: takes the (schema-checked) body, returns exactly the reply GoCD expects. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are checked against openapi.yaml before a handler sees them.
export type GocdHandler = (body: any) => unknown;

/** The handler of every request name; the type makes a missing name a compile error. */
export function createGocdHandlers(
  agents: AgentService,
  logger: Logger,
  notices: UserNotices,
  extraStatus?: ExtraSections,
  generalHealth?: GeneralHealth,
): Record<GocdRequestName, GocdHandler> {
  return {
    ...pluginInfoHandlers,
    ...validateProfileHandlers,
    'cd.go.elastic-agent.migrate-config': migrateConfig,
    ...agentLifecycleHandlers(agents, logger, notices, generalHealth),
    ...statusReportHandlers(agents, extraStatus),
  };
}
