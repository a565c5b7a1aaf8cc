/** All scenarios, in report order. */
import { churn } from './churn.js'
import { coldLoad } from './cold-load.js'
import { crossInstance } from './cross-instance.js'
import { fanout } from './fanout.js'
import { memory } from './memory.js'
import type { Scenario } from './scenario.js'
import { stall } from './stall.js'
import { throughput } from './throughput.js'

export const SCENARIOS: Scenario[] = [fanout, crossInstance, throughput, memory, coldLoad, churn, stall]
