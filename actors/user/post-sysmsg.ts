/**
 * Where the user actor's built-in system notifications (the friend flows)
 * leave it: the account's notification store (sysmsgs.ts), which delivers
 * them to the online devices and keeps them for the next logins until
 * `markSysMsgRead`.
 */
export { postSysMsg } from './sysmsgs.ts';
