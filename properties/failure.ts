// A property's own verdict that a case failed (as opposed to an infrastructure error).
export class PropertyFailure extends Error {}
