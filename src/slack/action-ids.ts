// The action_ids of cytoskel's Slack buttons, in one place: the bot posts and handles some, the
// provisioner and the expiry job post others that the bot then handles (value = request ID).

export const APPROVE_ACTION_ID = "cytoskel_approve";
export const DENY_ACTION_ID = "cytoskel_deny";
/** The admin "Retry" button on a FAILED request (posted by the provisioner). */
export const RETRY_ACTION_ID = "cytoskel_retry";
/** The requester's "Request extension" button in an expiry reminder (posted by the expiry job). */
export const EXTEND_ACTION_ID = "cytoskel_extend";
/** The requester's "Cancel" beside an open request in the App Home (value = request ID). */
export const CANCEL_ACTION_ID = "cytoskel_cancel";
/** The admin's "Approve shorter…" menu on a change request's card (value = request, requester, days). */
export const APPROVE_SHORTER_ACTION_ID = "cytoskel_approve_shorter";
/** The "Older events" button under an audit page (posted and handled by the bot; value = the next page). */
export const AUDIT_OLDER_ACTION_ID = "cytoskel_audit_older";
