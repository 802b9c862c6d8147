package gocd.agent.scaler.forwarder;

import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this forwarder remembers about warm-pool agents (DESIGN.md "Warm pools"): its instance id, drawn when GoCD loads
 * the plugin and sent with every server-ping, so the service names pool agents after it; and the job each pool agent
 * of this instance was given. A pool agent takes one job, and never a second: GoCD may ask for the same idle agent
 * again between its job's end and the job-completion that removes it, and only this memory answers that. A restart
 * loses the memory but also changes the instance, and a pool agent of another instance takes nothing.
 */
final class PoolClaims implements ShouldAssignWorkRule.PoolAssignments {
    /** Far more pool agents than live at once (each lives one job); the oldest claims go first beyond it. */
    static final int MAX_CLAIMS = 100_000;

    private final String instance;
    private final Map<String, Long> claims = new LinkedHashMap<>();

    PoolClaims() {
        this(randomInstance());
    }

    PoolClaims(String instance) {
        this.instance = instance;
    }

    private static String randomInstance() {
        byte[] b = new byte[4];
        new SecureRandom().nextBytes(b);
        StringBuilder hex = new StringBuilder(8);
        for (byte x : b) hex.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        return hex.toString();
    }

    @Override
    public String instance() {
        return instance;
    }

    @Override
    public synchronized Long claimedJob(String agentId) {
        return claims.get(agentId);
    }

    /**
     * Records that this pool agent takes this job; false when it already took another one (two threads deciding for
     * the same agent at once: the first claim wins).
     */
    synchronized boolean claim(String agentId, long jobId) {
        Long earlier = claims.get(agentId);
        if (earlier != null) return earlier == jobId;
        if (claims.size() >= MAX_CLAIMS) claims.remove(claims.keySet().iterator().next());
        claims.put(agentId, jobId);
        return true;
    }

    /** should-assign-work with this memory: the rule's answer, and the claim recorded when it lets a pool agent take the job. */
    ShouldAssignWorkRule.Decision decide(String body) {
        ShouldAssignWorkRule.Decision d = ShouldAssignWorkRule.decide(body, this);
        if (!d.assign() || !d.pool()) return d;
        return claim(d.agentId(), d.jobId()) ? d : ShouldAssignWorkRule.NO;
    }

    boolean shouldAssignWork(String body) {
        return decide(body).assign();
    }
}
