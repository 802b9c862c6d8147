package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.thoughtworks.go.plugin.api.GoPlugin;
import com.thoughtworks.go.plugin.api.annotation.Extension;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class SettingsAndContractTest {
    private static Properties props(String url, String token) {
        Properties p = new Properties();
        if (url != null) p.setProperty(ForwarderSettings.URL_PROPERTY, url);
        if (token != null) p.setProperty(ForwarderSettings.TOKEN_PROPERTY, token);
        return p;
    }

    @Test
    void readsTheUrlAndTokenFromTheEnvironment() {
        ForwarderSettings s = ForwarderSettings.from(Map.of("GOCD_AGENT_SCALER_URL", "https://scaler.example.com/", "GOCD_AGENT_SCALER_TOKEN", "abc"), new Properties());
        assertTrue(s.usable(), String.valueOf(s.problem()));
        assertEquals("https://scaler.example.com/gocd/requests/cd.go.elastic-agent.get-icon", s.requestUri("cd.go.elastic-agent.get-icon").toString());
        assertEquals("abc", s.token());
    }

    @Test
    void systemPropertiesWinOverTheEnvironmentAndBlankValuesCountAsUnset() {
        ForwarderSettings s = ForwarderSettings.from(
                Map.of("GOCD_AGENT_SCALER_URL", "https://env.example.com", "GOCD_AGENT_SCALER_TOKEN", "from-env"),
                props("http://127.0.0.1:8080", " "));
        assertTrue(s.usable());
        assertEquals("http://127.0.0.1:8080", s.target());
        assertEquals("from-env", s.token());
    }

    @Test
    void reportsEveryProblemTogetherWithoutEchoingTheToken() {
        ForwarderSettings none = ForwarderSettings.from(Map.of(), new Properties());
        assertFalse(none.usable());
        assertTrue(none.problem().contains("GOCD_AGENT_SCALER_URL") && none.problem().contains("GOCD_AGENT_SCALER_TOKEN"), none.problem());

        assertFalse(ForwarderSettings.of("ftp://scaler", "t").usable());
        assertFalse(ForwarderSettings.of("scaler.example.com", "t").usable());
        assertFalse(ForwarderSettings.of("https://scaler/?a=b", "t").usable());
        ForwarderSettings creds = ForwarderSettings.of("https://user:pw-in-url@scaler", "secret token");
        assertFalse(creds.usable());
        assertTrue(creds.problem().contains("not the URL"), creds.problem());
        assertTrue(creds.problem().contains("spaces or control characters"), creds.problem());
        assertFalse(creds.problem().contains("secret token"));
        assertFalse(creds.problem().contains("pw-in-url"));
    }

    @Test
    void theExtensionClassIsWhatGocdsLoaderLooksFor() throws Exception {
        Class<ForwarderPlugin> c = ForwarderPlugin.class;
        assertNotNull(c.getAnnotation(Extension.class));
        assertTrue(GoPlugin.class.isAssignableFrom(c));
        assertTrue(Modifier.isPublic(c.getModifiers()) && !Modifier.isAbstract(c.getModifiers()));
        assertTrue(Modifier.isPublic(c.getConstructor().getModifiers()));
    }

    @Test
    void theDefaultConstructorLoadsEvenWhenNothingIsConfigured() {
        GoPlugin plugin = new ForwarderPlugin();
        assertEquals("elastic-agent", plugin.pluginIdentifier().getExtension());
    }

    @Test
    void pluginXmlDeclaresTheIdAgentsRegisterWith() throws Exception {
        Path xml = Path.of(System.getProperty("plugin.xml", "src/main/resources/plugin.xml"));
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Element root = f.newDocumentBuilder().parse(xml.toFile()).getDocumentElement();
        assertEquals("go-plugin", root.getTagName());
        assertEquals("gocd-agent-scaler", root.getAttribute("id"));
        assertEquals("1", root.getAttribute("version"));
        assertEquals(1, root.getElementsByTagName("about").getLength());
        java.util.Set<String> children = new java.util.TreeSet<>();
        for (org.w3c.dom.Node n = root.getElementsByTagName("about").item(0).getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element) children.add(((Element) n).getTagName());
        }
        assertEquals(java.util.Set.of("name", "version", "target-go-version", "description", "vendor"), children);
    }
}
