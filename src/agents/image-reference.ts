/**
 * The Docker image reference grammar, as the engine and every registry client parse it: distribution/reference,
 * regexp.go (github.com/distribution/reference, `ReferenceRegexp`; the grammar is spelt out in its reference.go):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] remote-name          (at most 255 characters)
 *   domain     := host [':' port-number]            host: domain-name | '[' IPv6 ']'
 *   remote-name:= path-component ['/' path-component]*
 *   path-component := alpha-numeric [separator alpha-numeric]*   alpha-numeric: [a-z0-9]+, separator: [_.]|__|[-]+
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex (32 or more)
 *
 * Checked where a profile names an image (`image`, `dind_image`, `janitor_image`), so validate-elastic-agent-profile
 * refuses what a launch would fail on (`gocd agent:1`, `repo::tag`).
 */
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
const NAME_MAX = 255;

/** What is wrong with an image reference, or undefined when the engine would accept it. */
export function imageReferenceProblem(value: string): string | undefined {
  const m = REFERENCE.exec(value);
  if (!m) {
    return 'is not a Docker image reference ([registry[:port]/]name[:tag][@digest]: a lower-case name, no spaces, one tag)';
  }
  if (m[1]!.length > NAME_MAX) return `has a repository name longer than ${NAME_MAX} characters`;
  return undefined;
}

/** A profile row's check of an image reference (`image 'a b' is not a Docker image reference …`). */
export function imageReferenceCheck(key: string): (value: string) => string | undefined {
  return (value) => {
    const problem = imageReferenceProblem(value);
    return problem && `${key} '${value.length > 100 ? `${value.slice(0, 100)}…` : value}' ${problem}`;
  };
}
