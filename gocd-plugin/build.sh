#!/usr/bin/env bash
# Builds dist/gocd-agent-scaler-plugin.jar with javac + jar only (no Maven Central), plus the test harness that
# plays GoCD's plugin host in the end-to-end test. The GoCD plugin API is compiled from the declarations in
# api-stubs/ into build/stubs and kept out of the jar: GoCD provides those classes, and a copy inside the jar
# would make GoCD see a different GoPlugin and find no extension.
# The answers to GoCD's loader-time requests are generated from the service's own code (node, ../node_modules from
# `npm ci`) into build/generated and packed next to the plugin's classes: one source of truth, no network at load.
set -euo pipefail
cd "$(dirname "$0")"

GSON_JAR="${GSON_JAR:-/usr/share/java/gson.jar}"   # Debian: libgoogle-gson-java
JAR_NAME=gocd-agent-scaler-plugin.jar

die() { echo "build.sh: $*" >&2; exit 1; }
command -v javac >/dev/null || die "javac not found (Debian: apt-get install default-jdk-headless)"
command -v jar >/dev/null || die "jar not found (Debian: apt-get install default-jdk-headless)"
[ -r "$GSON_JAR" ] || die "$GSON_JAR not found (Debian: apt-get install libgoogle-gson-java, or set GSON_JAR)"
command -v node >/dev/null || die "node not found: the loader-time answers are generated from the service's code"
[ -d ../node_modules/tsx ] || die "../node_modules lacks tsx: run 'npm ci' in the repository root first"

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' ../package.json | head -1)
[ -n "$version" ] || die "no version in ../package.json"

# Several people and test runs share this tree: one build at a time (test.sh holds the lock for its whole run and
# says so), and no rebuild when the outputs are newer than every input, so a run that is reading them (the
# end-to-end test loads the jar and the harness) is not pulled from under.
mkdir -p build
if [ -z "${GOCD_PLUGIN_BUILD_LOCKED:-}" ] && command -v flock >/dev/null; then
  exec 9>build/.lock
  flock -w 300 9 || die "another build held build/.lock for 5 minutes"
fi

# The loader-time answers, asked of the service's own app (scripts/plugin-loader-answers.ts). The file is replaced only
# when its content changed, so an unchanged service does not make the jar out of date.
ANSWERS=build/generated/gocd/agent/scaler/forwarder/loader-answers.json
mkdir -p "$(dirname "$ANSWERS")"
node --import tsx ../scripts/plugin-loader-answers.ts build/loader-answers.next.json \
  || die "generating the loader-time answers from the service failed"
if cmp -s build/loader-answers.next.json "$ANSWERS"; then rm -f build/loader-answers.next.json; else mv build/loader-answers.next.json "$ANSWERS"; fi

if [ "${1:-}" != "--force" ] && [ -f "dist/$JAR_NAME" ] && [ -f build/harness/gocd/agent/scaler/harness/GocdPluginHost.class ] \
  && [ -z "$(find api-stubs src/main test-harness build.sh "$ANSWERS" ../package.json "$GSON_JAR" -newer "dist/$JAR_NAME" -print -quit)" ]; then
  echo "dist/$JAR_NAME is up to date (build.sh --force rebuilds)"
  exit 0
fi

rm -rf build/stubs build/classes build/jar build/harness dist
mkdir -p build/stubs build/classes build/jar/lib build/harness dist

echo "javac: GoCD plugin API declarations (compile-only)"
find api-stubs -name '*.java' > build/stubs.list
javac --release 17 -Xlint:all -d build/stubs @build/stubs.list

echo "javac: plugin"
find src/main/java -name '*.java' > build/main.list
javac --release 17 -Xlint:all -encoding UTF-8 -cp "build/stubs:$GSON_JAR" -d build/classes @build/main.list

echo "jar: $JAR_NAME (version $version)"
cp -R build/classes/. build/jar/
cp -R build/generated/. build/jar/
sed "s/@VERSION@/$version/" src/main/resources/plugin.xml > build/jar/plugin.xml
cp -L "$GSON_JAR" build/jar/lib/gson.jar
jar --create --file "dist/$JAR_NAME" -C build/jar .

# The jar must hold the plugin, its metadata and gson, and none of GoCD's own API classes.
listing=$(jar tf "dist/$JAR_NAME")
if grep -q '^com/thoughtworks/' <<<"$listing"; then die "the jar contains com/thoughtworks classes; they must come from GoCD"; fi
for entry in plugin.xml lib/gson.jar gocd/agent/scaler/forwarder/ForwarderPlugin.class gocd/agent/scaler/forwarder/loader-answers.json; do
  grep -qx "$entry" <<<"$listing" || die "the jar lacks $entry"
done
if grep -q '^module-info.class$' <<<"$listing"; then die "module-info.class at the jar root would be scanned as a class by GoCD"; fi

echo "javac: test harness (plays GoCD's plugin host)"
find test-harness -name '*.java' > build/harness.list
javac --release 17 -Xlint:all -encoding UTF-8 -cp "build/stubs:$GSON_JAR" -d build/harness @build/harness.list

echo "built dist/$JAR_NAME ($(wc -c <"dist/$JAR_NAME") bytes)"
