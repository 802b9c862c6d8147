package gocd.agent.scaler.forwarder;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long each job waited for its agent, on GoCD's own clock: from the first create-agent the forwarder forwarded for
 * it to the first should-assign-work it answered true. Reported with the next server-ping ({@code job_waits}) for the
 * service's job-wait metric; nothing waits on it, and a restart only loses figures.
 */
final class JobWaits {
    static final int MAX_PENDING = 20_000;
    static final int MAX_REPORTED = 10_000;

    private final Map<Long, Long> createdAt = new LinkedHashMap<>();
    private final List<JsonObject> done = new ArrayList<>();

    /** create-agent for this job was forwarded at {@code at} (epoch ms); only the first one counts. */
    synchronized void created(long jobId, long at) {
        if (createdAt.containsKey(jobId)) return;
        if (createdAt.size() >= MAX_PENDING) createdAt.remove(createdAt.keySet().iterator().next());
        createdAt.put(jobId, at);
    }

    /** should-assign-work gave this agent the job at {@code at}; the first answer per job counts. */
    synchronized void assigned(String agentId, long jobId, boolean warm, long at) {
        Long created = createdAt.remove(jobId);
        if (created == null || done.size() >= MAX_REPORTED) return;
        JsonObject o = new JsonObject();
        o.addProperty("agent_id", agentId);
        o.addProperty("job_id", jobId);
        o.addProperty("wait_ms", Math.max(0, at - created));
        o.addProperty("warm", warm);
        done.add(o);
    }

    /** The waits measured since the last call. */
    synchronized JsonArray drain() {
        JsonArray out = new JsonArray();
        for (JsonObject o : done) out.add(o);
        done.clear();
        return out;
    }
}
