package gocd.agent.scaler.forwarder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The warm-pooled profiles GoCD asked agents of in the last 24 hours, as their create-agent bodies carried them (cluster
 * and elastic profile, GoCD environment, the server's auto-register key), sent with every server-ping
 * ({@code warm_pools}): GoCD's server-ping carries no elastic profiles, and the service keeps no such state across
 * restarts or Lambda containers, so this is how every server-ping can refill every pool. A restart of the forwarder
 * loses them with its instance id; the next create-agent of each profile teaches them again.
 */
final class PoolProfiles {
    static final long TTL_MS = 24L * 3600 * 1000;
    static final int MAX = 200;
    private static final List<String> SIZING = List.of("warm_pool_size", "warm_pool_idle_minutes", "warm_pool_schedule");

    private record Seen(JsonObject pool, long at) {}

    private final Map<String, Seen> byProfile = new LinkedHashMap<>();

    /** A create-agent body: remembered when its elastic profile asks for a pool, forgotten when it asks for none. */
    synchronized void saw(JsonObject createAgent, long now) {
        JsonElement props = createAgent.get("elastic_agent_profile_properties");
        JsonElement key = createAgent.get("auto_register_key");
        if (props == null || !props.isJsonObject() || key == null || !key.isJsonPrimitive()) return;
        String identity = identity(createAgent, props.getAsJsonObject());
        if (poolSize(props.getAsJsonObject()) <= 0) {
            byProfile.remove(identity);
            return;
        }
        JsonObject pool = new JsonObject();
        pool.add("cluster_profile_properties", createAgent.get("cluster_profile_properties"));
        pool.add("elastic_agent_profile_properties", props);
        JsonElement environment = createAgent.get("environment");
        if (environment != null && !environment.isJsonNull()) pool.add("environment", environment);
        pool.add("auto_register_key", key);
        byProfile.remove(identity);
        if (byProfile.size() >= MAX) byProfile.remove(byProfile.keySet().iterator().next());
        byProfile.put(identity, new Seen(pool, now));
    }

    /** The pooled profiles seen within the last 24 hours. */
    synchronized JsonArray current(long now) {
        JsonArray out = new JsonArray();
        for (Iterator<Seen> it = byProfile.values().iterator(); it.hasNext(); ) {
            Seen s = it.next();
            if (now - s.at() > TTL_MS) it.remove();
            else out.add(s.pool());
        }
        return out;
    }

    /** The profile without its sizing keys, with its cluster and environment: resizing a pool replaces its entry. */
    private static String identity(JsonObject createAgent, JsonObject props) {
        JsonObject profile = props.deepCopy();
        for (String k : SIZING) profile.remove(k);
        return Json.write(createAgent.get("cluster_profile_properties")) + "\n" + Json.write(profile) + "\n"
                + Json.write(createAgent.get("environment"));
    }

    private static int poolSize(JsonObject props) {
        JsonElement v = props.get("warm_pool_size");
        if (v == null || !v.isJsonPrimitive()) return 0;
        try {
            return Integer.parseInt(ShouldAssignWorkRule.jsTrim(v.getAsString()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
