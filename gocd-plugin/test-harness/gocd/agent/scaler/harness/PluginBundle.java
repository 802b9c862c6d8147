package gocd.agent.scaler.harness;

import com.thoughtworks.go.plugin.api.GoPlugin;
import com.thoughtworks.go.plugin.api.annotation.Extension;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * A plugin jar loaded the way GoCD loads it: exploded, classes from its root, dependency jars from lib/ on the bundle's
 * class path, plugin.xml checked as GoCD's descriptor schema does, one public concrete @Extension GoPlugin. The bundle
 * sees the JDK and GoCD's plugin API and nothing else of the host (as a Felix bundle sees only what GoCD exports), so a
 * jar that forgets a dependency fails here as in GoCD.
 */
final class PluginBundle {
    final String pluginId;
    final List<String> entries;
    final URLClassLoader loader;
    final Class<?> extension;

    private PluginBundle(String pluginId, List<String> entries, URLClassLoader loader, Class<?> extension) {
        this.pluginId = pluginId;
        this.entries = entries;
        this.loader = loader;
        this.extension = extension;
    }

    /** Only GoCD's plugin API comes from the host; everything else from the JDK (the platform class loader). */
    private static final class ApiOnly extends ClassLoader {
        private final ClassLoader host;

        ApiOnly(ClassLoader host) {
            super("gocd-plugin-api", ClassLoader.getPlatformClassLoader());
            this.host = host;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (name.startsWith("com.thoughtworks.go.plugin.")) return host.loadClass(name);
            throw new ClassNotFoundException(name + " (not exported to plugins)");
        }
    }

    static PluginBundle load(File jar) throws Exception {
        Path exploded = Files.createTempDirectory("gocd-plugin-bundle");
        exploded.toFile().deleteOnExit();
        List<String> entries = explode(jar, exploded);
        for (String e : entries) {
            if (e.startsWith("com/thoughtworks/")) throw new IllegalStateException("the jar carries GoCD's own class " + e);
        }
        String pluginId = pluginIdFrom(exploded.resolve("plugin.xml"));
        List<URL> urls = new ArrayList<>();
        urls.add(exploded.toUri().toURL());
        File[] libs = exploded.resolve("lib").toFile().listFiles((d, n) -> n.endsWith(".jar"));
        if (libs != null) for (File lib : libs) urls.add(lib.toURI().toURL());
        URLClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), new ApiOnly(PluginBundle.class.getClassLoader()));
        List<Class<?>> extensions = new ArrayList<>();
        for (String e : entries) {
            if (!e.endsWith(".class") || e.startsWith("lib/") || e.startsWith("META-INF/")) continue;
            // GoCD loads every class of the bundle; one that cannot load makes the plugin invalid.
            Class<?> c = Class.forName(e.substring(0, e.length() - 6).replace('/', '.'), false, loader);
            if (c.getAnnotation(Extension.class) != null) extensions.add(c);
        }
        if (extensions.size() != 1) throw new IllegalStateException("expected one @Extension class, found " + extensions);
        Class<?> extension = extensions.get(0);
        if (!GoPlugin.class.isAssignableFrom(extension)) throw new IllegalStateException(extension + " does not implement the host's GoPlugin");
        if (!Modifier.isPublic(extension.getModifiers()) || Modifier.isAbstract(extension.getModifiers())) {
            throw new IllegalStateException(extension + " is not public and concrete");
        }
        return new PluginBundle(pluginId, entries, loader, extension);
    }

    GoPlugin newPlugin() throws ReflectiveOperationException {
        return (GoPlugin) extension.getConstructor().newInstance();
    }

    private static List<String> explode(File jar, Path into) throws IOException {
        List<String> names = new ArrayList<>();
        try (JarFile j = new JarFile(jar)) {
            Enumeration<JarEntry> all = j.entries();
            while (all.hasMoreElements()) {
                JarEntry e = all.nextElement();
                names.add(e.getName());
                Path target = into.resolve(e.getName()).normalize();
                if (!target.startsWith(into)) throw new IllegalStateException("jar entry escapes the bundle: " + e.getName());
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    try (InputStream s = j.getInputStream(e)) {
                        Files.copy(s, target);
                    }
                }
            }
        }
        return names;
    }

    /** The checks GoCD's descriptor schema makes: root go-plugin, id of [\w-.]+ (at most 200), version fixed to 1. */
    private static String pluginIdFrom(Path pluginXml) throws Exception {
        if (!Files.exists(pluginXml)) throw new IllegalStateException("plugin.xml is missing");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(pluginXml.toFile());
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("go-plugin")) throw new IllegalStateException("plugin.xml root is " + root.getTagName());
        String id = root.getAttribute("id");
        if (!id.matches("[\\w\\-.]{1,200}")) throw new IllegalStateException("invalid plugin id '" + id + "'");
        if (!root.getAttribute("version").equals("1")) throw new IllegalStateException("plugin.xml version must be 1");
        if (root.getElementsByTagName("about").getLength() != 1) throw new IllegalStateException("plugin.xml needs one <about>");
        return id;
    }
}
