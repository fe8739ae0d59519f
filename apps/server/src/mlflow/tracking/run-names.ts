import { randomInt } from 'node:crypto';

// A short list in the spirit of MLflow's own generated names ("bouncy-cat-123"): runs started
// without a name get one, so lists and charts have something to show.
const ADJECTIVES = [
  'able', 'agile', 'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'dapper', 'eager', 'fancy',
  'gentle', 'glad', 'grand', 'happy', 'honest', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'merry', 'mellow',
  'nimble', 'noble', 'polite', 'proud', 'quick', 'quiet', 'rare', 'rustic', 'sharp', 'shy', 'silent', 'smooth',
  'sunny', 'swift', 'tidy', 'vivid', 'warm', 'wise', 'witty', 'zesty',
];
const NOUNS = [
  'ant', 'bat', 'bear', 'bee', 'bird', 'carp', 'cat', 'colt', 'crab', 'crow', 'deer', 'doe', 'dove', 'duck',
  'eel', 'elk', 'finch', 'fox', 'frog', 'goat', 'hare', 'hawk', 'hen', 'jay', 'kite', 'lark', 'lynx', 'mole',
  'moth', 'newt', 'owl', 'ox', 'panda', 'pig', 'ram', 'seal', 'shrew', 'snail', 'squid', 'swan', 'toad', 'trout',
  'wasp', 'whale', 'wolf', 'wren', 'yak',
];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
