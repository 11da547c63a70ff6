// The local EVM node of the chains tests (test/helpers/hardhat-node.ts): Hardhat 2's in-process network,
// no contracts, nothing compiled or downloaded.
module.exports = { networks: { hardhat: { chainId: 31337 } } };
