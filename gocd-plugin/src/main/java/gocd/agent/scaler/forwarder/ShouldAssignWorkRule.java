package gocd.agent.scaler.forwarder;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * should-assign-work, answered inside the plugin: an agent takes only the job it was made for. The same pure rule as
 * the service's {@code shouldAssignWork} (src/agents/agent-id.ts); both run the table in
 * test/fixtures/should-assign-work-cases.json so they cannot drift apart.
 */
final class ShouldAssignWorkRule {
    /** {@code ea-<job_id>-<8 lowercase hex>}; {@code \d} is ASCII-only in Java as in JavaScript without the u flag. */
    private static final Pattern AGENT_ID = Pattern.compile("ea-(-?\\d+)-([0-9a-f]{8})");
    /** {@code ea-pool-<profile hash, 12 hex>-<forwarder instance, 8 hex>-<nonce, 8 hex>} (src/agents/warm-pool-id.ts). */
    private static final Pattern POOL_AGENT_ID = Pattern.compile("ea-pool-([0-9a-f]{12})-([0-9a-f]{8})-([0-9a-f]{8})");
    /** Elastic-profile keys that size a pool rather than define its agents: not part of the profile hash. */
    private static final List<String> POOL_SIZING_KEYS = List.of("warm_pool_size", "warm_pool_idle_minutes", "warm_pool_schedule");
    /** What Node writes for a lone surrogate when it hashes a string as UTF-8 (U+FFFD). */
    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};
    /** Number.MAX_SAFE_INTEGER: beyond it a JavaScript number no longer names one integer. */
    private static final double MAX_SAFE_INTEGER = 9007199254740991.0;

    private ShouldAssignWorkRule() {}

    /**
     * What the forwarder knows when it judges a pool agent: its own instance id and the job (if any) it already let
     * each pool agent take. Null: pool agents take nothing.
     */
    interface PoolAssignments {
        String instance();

        /** The job id this pool agent was already given, or null. */
        Long claimedJob(String agentId);
    }

    /** The answer; for a true one, which agent takes which job, and whether it is a pool agent (the caller records its claim). */
    record Decision(boolean assign, String agentId, long jobId, boolean pool) {}

    static boolean evaluate(String body) {
        return decide(body, null).assign();
    }

    /**
     * True iff {@code agent.agent_id} is one of our ids, its job id equals {@code job_identifier.job_id}, and its hex
     * part is the one the service derives for that job on the request's cluster profile. Total:
     * anything malformed or missing is false, never an exception, because GoCD asks inside its locked assignment
     * loop and an exception there stalls every job's assignment.
     */
    static Decision decide(String body, PoolAssignments pool) {
        try {
            return evaluateParsed(body, pool);
        } catch (RuntimeException | StackOverflowError e) {
            return NO;
        }
    }

    static final Decision NO = new Decision(false, null, 0, false);

    private static Decision evaluateParsed(String body, PoolAssignments pool) {
        if (body == null) return NO;
        JsonElement root = Json.parse(body);
        if (!root.isJsonObject()) return NO;
        JsonObject message = root.getAsJsonObject();
        String agentId = stringMember(message.get("agent"), "agent_id");
        JsonPrimitive jobId = primitiveMember(message.get("job_identifier"), "job_id");
        if (agentId == null || jobId == null || !jobId.isNumber()) return NO;
        // The service sees job_id as a JavaScript number (an IEEE double): read the JSON text the same way so that
        // both sides agree even on 100.0 or 1e2 (integral values) and on numbers beyond 2^53 - 1 (refused).
        double job = Double.parseDouble(jobId.getAsString());
        if (!Double.isFinite(job) || job != Math.rint(job) || Math.abs(job) > MAX_SAFE_INTEGER) return NO;
        String clusterId = clusterId(message.get("cluster_profile_properties"));
        if (clusterId == null) return NO;
        Matcher p = POOL_AGENT_ID.matcher(agentId);
        if (p.matches()) return poolDecision(p, agentId, (long) job, clusterId, message, pool);
        Matcher m = AGENT_ID.matcher(agentId);
        if (!m.matches()) return NO;
        // Exact integer comparison: leading zeros and -0 compare numerically, as Number("007") does.
        if (!new BigInteger(m.group(1)).equals(BigInteger.valueOf((long) job))) return NO;
        return m.group(2).equals(sha256Hex(clusterId + "\0" + (long) job).substring(0, 8))
                ? new Decision(true, agentId, (long) job, false) : NO;
    }

    /**
     * A pool agent takes the job iff it is of this forwarder instance, has taken no job or exactly this one, and the
     * job's cluster id, environment and elastic profile hash to the agent's (src/agents/warm-pool-id.ts).
     */
    private static Decision poolDecision(Matcher id, String agentId, long job, String clusterId, JsonObject message, PoolAssignments pool) {
        if (pool == null || !pool.instance().equals(id.group(2))) return NO;
        Long claimed = pool.claimedJob(agentId);
        if (claimed != null && claimed != job) return NO;
        String hash = profileHash(clusterId, message.get("environment"), message.get("elastic_agent_profile_properties"));
        return id.group(1).equals(hash) ? new Decision(true, agentId, job, true) : NO;
    }

    /**
     * The canonical profile hash (src/agents/warm-pool-id.ts, table test/fixtures/profile-hash-cases.json): SHA-256 of
     * {@code pool\0<cluster id>\0<environment trimmed or empty>\0<lines>}, the lines {@code key=trimmed value} of the
     * non-blank properties except the sizing keys, sorted by UTF-16 code unit, joined by newlines; its first 12 hex.
     * Null unless the properties are an object of strings and nulls.
     */
    static String profileHash(String clusterId, JsonElement environment, JsonElement properties) {
        if (properties == null || !properties.isJsonObject()) return null;
        JsonObject props = properties.getAsJsonObject();
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : props.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonNull() && !(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) return null;
            keys.add(e.getKey());
        }
        Collections.sort(keys);
        StringBuilder lines = new StringBuilder();
        for (String key : keys) {
            if (POOL_SIZING_KEYS.contains(key)) continue;
            String v = value(props, key);
            if (v == null) continue;
            if (lines.length() > 0) lines.append('\n');
            lines.append(key).append('=').append(v);
        }
        String env = environment != null && environment.isJsonPrimitive() && environment.getAsJsonPrimitive().isString()
                ? jsTrim(environment.getAsString()) : "";
        return sha256Hex("pool\0" + clusterId + "\0" + env + "\0" + lines).substring(0, 12);
    }

    /**
     * The cluster id create-agent derived (src/agents/profiles.ts): {@code cluster_id} trimmed, else the first 12 hex
     * of the SHA-256 of the non-blank properties as sorted {@code key=trimmed value} lines. Null unless the properties
     * are an object of strings and nulls, as GoCD sends them.
     */
    private static String clusterId(JsonElement properties) {
        if (properties == null || !properties.isJsonObject()) return null;
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : properties.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonNull() && !(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) return null;
            keys.add(e.getKey());
        }
        JsonObject props = properties.getAsJsonObject();
        String id = value(props, "cluster_id");
        if (id != null) return id;
        // String.compareTo orders by UTF-16 code unit, as JavaScript's default sort does.
        Collections.sort(keys);
        StringBuilder canonical = new StringBuilder();
        for (String key : keys) {
            String v = value(props, key);
            if (v == null) continue;
            if (canonical.length() > 0) canonical.append('\n');
            canonical.append(key).append('=').append(v);
        }
        return sha256Hex(canonical.toString()).substring(0, 12);
    }

    /** A property trimmed as JavaScript trims, or null when absent, null or blank. */
    private static String value(JsonObject props, String key) {
        JsonElement v = props.get(key);
        if (v == null || v.isJsonNull()) return null;
        String trimmed = jsTrim(v.getAsString());
        return trimmed.isEmpty() ? null : trimmed;
    }

    /** String.prototype.trim: JavaScript's WhiteSpace and LineTerminator set, which Java's trim() and strip() differ from. */
    static String jsTrim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isJsSpace(s.charAt(start))) start++;
        while (end > start && isJsSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    private static boolean isJsSpace(char c) {
        switch (c) {
            case '\t': case '\n': case '\u000B': case '\f': case '\r': case ' ': case '\u00A0': case '\u1680':
            case '\u2028': case '\u2029': case '\u202F': case '\u205F': case '\u3000': case '\uFEFF':
                return true;
            default:
                return c >= '\u2000' && c <= '\u200A';
        }
    }

    /** SHA-256 hex of a string's UTF-8 bytes, lone surrogates written as U+FFFD as Node's hash.update(string) does. */
    private static String sha256Hex(String text) {
        try {
            CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .replaceWith(REPLACEMENT);
            ByteBuffer bytes = utf8.encode(CharBuffer.wrap(text));
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(bytes);
            StringBuilder hex = new StringBuilder(64);
            for (byte b : sha.digest()) hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            return hex.toString();
        } catch (NoSuchAlgorithmException | CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
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
