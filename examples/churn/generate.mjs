// Generates the churn example's data, deterministically (a fixed seed): run
// `node examples/churn/generate.mjs` to write the same three files again.
//   customers.csv  1200 customers of January 2026 with their outcome (`churned`): the history
//                  a first model trains on (two rows break the contract on purpose).
//   shifted.csv    600 customers of February, after a price rise: monthly_charges up by about
//                  25 and support_calls up by 2 (the rule from features to churn is unchanged).
//   labels.csv     the true outcome of February's customers (`customer_id,label`), known a
//                  month later: sent to monitoring as labels of the predictions made for them.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** mulberry32: a small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uniform = prng(2026);
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const round2 = (x) => Math.round(x * 100) / 100;

/** One customer; `shift` is February's price rise. */
function customer(n, day, shift) {
  const contract = [1, 12, 24][Math.floor(uniform() * 3)];
  const tenure = Math.round(clamp(Math.exp(2.6 + 0.9 * normal()), 1, 72));
  const charges = round2(clamp(65 + 25 * normal() + (shift ? 25 : 0), 18, 160));
  const calls = Math.round(clamp(1.5 + 1.3 * normal() + (shift ? 2 : 0), 0, 12));
  // The churn rule (the same in both months): short tenure, high charges, many support calls
  // and month-to-month contracts churn.
  const score = -0.06 * tenure + 0.035 * (charges - 65) + 0.55 * (calls - 1.5) - 0.06 * contract + 0.6 + 0.8 * normal();
  const ts = new Date(Date.UTC(2026, shift ? 1 : 0, 1 + day, Math.floor(uniform() * 24), Math.floor(uniform() * 60))).toISOString();
  return { customer_id: `C${String(n).padStart(5, '0')}`, ts, tenure_months: tenure, monthly_charges: charges, support_calls: calls, contract_months: contract, churned: score > 0 ? 1 : 0 };
}

const COLUMNS = ['customer_id', 'ts', 'tenure_months', 'monthly_charges', 'support_calls', 'contract_months', 'churned'];
const csv = (rows, columns = COLUMNS) => `${[columns.join(','), ...rows.map((r) => columns.map((c) => r[c]).join(','))].join('\n')}\n`;

const history = Array.from({ length: 1200 }, (_, i) => customer(i + 1, Math.floor((i / 1200) * 28), false));
// Two records a data contract refuses: a negative charge and a churn outcome that is not 0/1.
history[41].monthly_charges = -12.5;
history[977].churned = 2;
const february = Array.from({ length: 600 }, (_, i) => customer(1201 + i, Math.floor((i / 600) * 27), true));

writeFileSync(join(here, 'customers.csv'), csv(history));
writeFileSync(join(here, 'shifted.csv'), csv(february));
writeFileSync(join(here, 'labels.csv'), csv(february.map((r) => ({ customer_id: r.customer_id, label: r.churned })), ['customer_id', 'label']));
const rate = (rows) => (rows.filter((r) => r.churned === 1).length / rows.length).toFixed(2);
console.log(`wrote customers.csv (${history.length} rows, churn rate ${rate(history)}), shifted.csv (${february.length} rows, churn rate ${rate(february)}), labels.csv`);
