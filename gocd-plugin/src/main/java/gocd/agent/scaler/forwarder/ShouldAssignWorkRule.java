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
    /** What Node writes for a lone surrogate when it hashes a string as UTF-8 (U+FFFD). */
    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};
    /** Number.MAX_SAFE_INTEGER: beyond it a JavaScript number no longer names one integer. */
    private static final double MAX_SAFE_INTEGER = 9007199254740991.0;

    private ShouldAssignWorkRule() {}

    /**
     * True iff {@code agent.agent_id} is one of our ids, its job id equals {@code job_identifier.job_id}, and its hex
     * part is the one the service derives for that job on the request's cluster profile. Total:
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
        if (!new BigInteger(m.group(1)).equals(BigInteger.valueOf((long) job))) return false;
        String clusterId = clusterId(message.get("cluster_profile_properties"));
        return clusterId != null && m.group(2).equals(sha256Hex(clusterId + "\0" + (long) job).substring(0, 8));
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
