/** Request bodies above this are refused with 413 before they are read whole (API and dashboard). */
export const MAX_BODY_BYTES = 64 * 1024
