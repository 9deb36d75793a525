import { describeSessionContract } from './session-contract.js';

describeSessionContract('6.42');
