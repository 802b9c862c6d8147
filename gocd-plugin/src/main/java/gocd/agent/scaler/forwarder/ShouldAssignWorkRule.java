package gocd.agent.scaler.forwarder;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * should-assign-work, answered inside the plugin: an agent takes only the job it was made for. The same pure rule as
 * the service's {@code shouldAssignWork} (src/agents/agent-id.ts); both run the table in
 * test/fixtures/should-assign-work-cases.json so they cannot drift apart.
 */
final class ShouldAssignWorkRule {
    /** {@code ea-<job_id>-<8 lowercase hex>}; {@code \d} is ASCII-only in Java as in JavaScript without the u flag. */
    private static final Pattern AGENT_ID = Pattern.compile("ea-(-?\\d+)-[0-9a-f]{8}");
    /** Number.MAX_SAFE_INTEGER: beyond it a JavaScript number no longer names one integer. */
    private static final double MAX_SAFE_INTEGER = 9007199254740991.0;

    private ShouldAssignWorkRule() {}

    /**
     * True iff {@code agent.agent_id} is one of our ids and its job id equals {@code job_identifier.job_id}. Total:
     * anything malformed or missing is false, never an exception, because GoCD asks inside its locked assignment
     * loop and an exception there stalls every job's assignment.
     */
    static boolean evaluate(String body) {
        try {
            return evaluateParsed(body);
        } catch (RuntimeException | StackOverflowError e) {
            return false;
        }
    }

    private static boolean evaluateParsed(String body) {
        if (body == null) return false;
        JsonElement root = Json.parse(body);
        if (!root.isJsonObject()) return false;
        JsonObject message = root.getAsJsonObject();
        String agentId = stringMember(message.get("agent"), "agent_id");
        JsonPrimitive jobId = primitiveMember(message.get("job_identifier"), "job_id");
        if (agentId == null || jobId == null || !jobId.isNumber()) return false;
        // The service sees job_id as a JavaScript number (an IEEE double): read the JSON text the same way so that
        // both sides agree even on 100.0 or 1e2 (integral values) and on numbers beyond 2^53 - 1 (refused).
        double job = Double.parseDouble(jobId.getAsString());
        if (!Double.isFinite(job) || job != Math.rint(job) || Math.abs(job) > MAX_SAFE_INTEGER) return false;
        Matcher m = AGENT_ID.matcher(agentId);
        if (!m.matches()) return false;
        // Exact integer comparison: leading zeros and -0 compare numerically, as Number("007") does.
        return new BigInteger(m.group(1)).equals(BigInteger.valueOf((long) job));
    }

    private static String stringMember(JsonElement parent, String name) {
        JsonPrimitive p = primitiveMember(parent, name);
        return p != null && p.isString() ? p.getAsString() : null;
    }

    private static JsonPrimitive primitiveMember(JsonElement parent, String name) {
        if (parent == null || !parent.isJsonObject()) return null;
        JsonElement member = parent.getAsJsonObject().get(name);
        return member != null && member.isJsonPrimitive() ? member.getAsJsonPrimitive() : null;
    }
}
