#!/usr/bin/env bash
# Builds the plugin (build.sh), then compiles and runs its Java unit tests with the JUnit 5 console launcher from
# Debian's junit5 package. Exits non-zero when a test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")"

GSON_JAR="${GSON_JAR:-/usr/share/java/gson.jar}"
JUNIT_JAR="${JUNIT_JAR:-/usr/share/java/junit-platform-console-standalone.jar}"   # Debian: junit5
[ -r "$JUNIT_JAR" ] || { echo "test.sh: $JUNIT_JAR not found (Debian: apt-get install junit5, or set JUNIT_JAR)" >&2; exit 1; }

# Hold the build lock for the whole run: a concurrent build.sh must not replace the classes under test.
mkdir -p build
if command -v flock >/dev/null; then
  exec 9>build/.lock
  flock -w 300 9 || { echo "test.sh: another build held build/.lock for 5 minutes" >&2; exit 1; }
  export GOCD_PLUGIN_BUILD_LOCKED=1
fi
./build.sh "$@"

echo "javac: unit tests"
rm -rf build/test-classes build/test-reports
mkdir -p build/test-classes
find src/test/java -name '*.java' > build/test.list
javac --release 17 -Xlint:all -encoding UTF-8 -cp "build/stubs:build/classes:build/generated:$GSON_JAR:$JUNIT_JAR" -d build/test-classes @build/test.list

echo "junit: unit tests"
java -Dshared.table=../test/fixtures/should-assign-work-cases.json -Dhash.table=../test/fixtures/profile-hash-cases.json -Dmigrate.table=../test/fixtures/migrate-config-cases.json \
  -Dplugin.xml=src/main/resources/plugin.xml \
  -jar "$JUNIT_JAR" --disable-banner --details=tree --fail-if-no-tests \
  --class-path "build/test-classes:build/classes:build/generated:build/stubs:$GSON_JAR" \
  --scan-class-path build/test-classes --reports-dir build/test-reports
