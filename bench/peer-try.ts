import { runPeers } from './peers/run-peers.ts';
console.log(JSON.stringify(await runPeers({ duration: 2 })));
process.exit(0);
