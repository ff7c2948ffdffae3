/** The rule node names and groups follow (host names: lower-case, digits, hyphens). */
export const NODE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** The rule group names follow; leaves room for the `-xxxx` suffix. */
export const GROUP_PATTERN = /^[a-z][a-z0-9-]{0,46}$/;
/** The rule image ids follow (also blob names and master names derive from them). */
export const IMAGE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
