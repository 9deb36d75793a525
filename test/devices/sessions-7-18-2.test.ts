import { describeSessionContract } from './session-contract.js';

describeSessionContract('7.18.2');
