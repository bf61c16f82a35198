// Reads a JSON list of simulations (iam-simulate's own "Simulation" shape) on stdin and prints
// one JSON line per simulation: {"decision": "Allow" | "ImplicitDeny" | "ExplicitDeny"} or
// {"error": "..."} when the oracle refuses the input. Test-time only (iam-simulate is AGPL).
import { runSimulation } from '@cloud-copilot/iam-simulate'

const NAMES = {
  Allowed: 'Allow',
  ImplicitlyDenied: 'ImplicitDeny',
  ExplicitlyDenied: 'ExplicitDeny'
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

async function one(simulation) {
  try {
    const result = await runSimulation(simulation, { simulationMode: 'Strict' })
    if (result.resultType === 'error') {
      return { error: result.errors.message ?? 'refused', details: result.errors }
    }
    const ignored = result.resultType === 'single' ? result.result.ignoredContextKeys : []
    return { decision: NAMES[result.overallResult] ?? result.overallResult, ignored: ignored ?? [] }
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) }
  }
}

const simulations = JSON.parse(await readStdin())
const out = []
for (const simulation of simulations) {
  out.push(JSON.stringify(await one(simulation)))
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''))
