package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.thoughtworks.go.plugin.api.request.DefaultGoPluginApiRequest;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The API declarations behave as GoCD's published classes do where the plugin or the tests rely on it. */
class ApiStubsTest {
    @Test
    void requestParametersAndHeadersOfAGoPluginApiRequestAreUnmodifiable() {
        DefaultGoPluginApiRequest r = new DefaultGoPluginApiRequest("elastic-agent", "5.0", "cd.go.elastic-agent.get-icon");
        r.addRequestParameter("p", "1");
        r.addRequestHeader("h", "2");
        assertThrows(UnsupportedOperationException.class, () -> r.requestParameters().put("x", "y"));
        assertThrows(UnsupportedOperationException.class, () -> r.requestHeaders().put("x", "y"));
        assertEquals(Map.of("p", "1"), r.requestParameters());
        assertEquals(Map.of("h", "2"), r.requestHeaders());
    }

    @Test
    void setRequestParamsAndHeadersReplaceTheMapsAndIgnoreNull() {
        DefaultGoPluginApiRequest r = new DefaultGoPluginApiRequest("elastic-agent", "5.0", "x");
        Map<String, String> params = new HashMap<>(Map.of("a", "b"));
        r.setRequestParams(params);
        r.setRequestParams(null);
        r.setRequestHeaders(Map.of("c", "d"));
        r.setRequestHeaders(null);
        assertEquals(Map.of("a", "b"), r.requestParameters());
        assertEquals(Map.of("c", "d"), r.requestHeaders());
    }
}
