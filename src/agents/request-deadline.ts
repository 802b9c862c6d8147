/**
 * How long the service may work on one create-agent or job-completion before it answers (DESIGN.md "Deadlines"):
 * well inside the forwarder's 30 s (`ScalerClient.REQUEST_DEADLINE` in gocd-plugin/), after which the forwarder gives
 * up and the reply, with its console lines, is lost. Past it a launch is answered `waiting`/`throttled` (GoCD re-sends
 * create-agent about every 2 minutes) and a stop that did not go through leaves the agent disabled for server-ping to
 * finish. Every ECS call of the request — the pacer's turn, throttled retries and the SDK's own retries — ends by then.
 */
export const GOCD_REQUEST_DEADLINE_MS = 20_000;
