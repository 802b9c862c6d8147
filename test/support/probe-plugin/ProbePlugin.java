package probe;

import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.GoPlugin;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.annotation.Extension;
import com.thoughtworks.go.plugin.api.request.GoPluginApiRequest;
import com.thoughtworks.go.plugin.api.response.DefaultGoPluginApiResponse;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.util.List;

/**
 * A minimal elastic-agent plugin for testing the GoCD host harness itself: it answers every loader request well,
 * except the one named by -Dprobe.request, which gets -Dprobe.status (default 500) and -Dprobe.body (default {}).
 */
@Extension
public class ProbePlugin implements GoPlugin {
    @Override
    public void initializeGoApplicationAccessor(GoApplicationAccessor accessor) {}

    @Override
    public GoPluginIdentifier pluginIdentifier() {
        return new GoPluginIdentifier("elastic-agent", List.of("5.0"));
    }

    @Override
    public GoPluginApiResponse handle(GoPluginApiRequest request) {
        String name = request.requestName();
        if (name.equals(System.getProperty("probe.request"))) {
            return new DefaultGoPluginApiResponse(Integer.getInteger("probe.status", 500), System.getProperty("probe.body", "{}"));
        }
        switch (name) {
            case "cd.go.elastic-agent.migrate-config":
                return DefaultGoPluginApiResponse.success("{\"cluster_profiles\":[],\"elastic_agent_profiles\":[]}");
            case "cd.go.elastic-agent.get-elastic-agent-profile-metadata":
            case "cd.go.elastic-agent.get-cluster-profile-metadata":
                return DefaultGoPluginApiResponse.success("[{\"key\":\"k\",\"metadata\":{\"required\":true,\"secure\":false}}]");
            case "cd.go.elastic-agent.get-elastic-agent-profile-view":
            case "cd.go.elastic-agent.get-cluster-profile-view":
            case "go.plugin-settings.get-view":
                return DefaultGoPluginApiResponse.success("{\"template\":\"<div/>\"}");
            case "cd.go.elastic-agent.get-icon":
                return DefaultGoPluginApiResponse.success("{\"content_type\":\"image/svg+xml\",\"data\":\"PHN2Zy8+\"}");
            case "cd.go.elastic-agent.get-capabilities":
                return DefaultGoPluginApiResponse.success("{\"supports_plugin_status_report\":false,\"supports_cluster_status_report\":false,\"supports_agent_status_report\":false}");
            case "go.plugin-settings.get-configuration":
                return DefaultGoPluginApiResponse.success("{\"url\":{\"required\":true,\"secure\":false}}");
            default:
                return DefaultGoPluginApiResponse.badRequest("{}");
        }
    }
}
