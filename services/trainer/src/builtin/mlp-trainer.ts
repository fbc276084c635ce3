import { GraphBuilder, readModel, tensor, type Signature } from '../onnx/graph';
import { featureNamesEntry } from '../onnx/feature-names';
import { DataType } from '../onnx/onnx-proto';
import { runToEnd } from './cooperative';
import {
  classificationMetrics,
  inferTask,
  regressionMetrics,
  softmax,
  type EpochMetrics,
  type Label,
  type TabularData,
  type Task,
} from './linear-trainer';
import { prepareData, scoring } from './prepared-data';
import { seededRandom } from './random';

export type Activation = 'relu' | 'tanh';
export type Optimizer = 'adam' | 'sgd';

export interface MlpParams {
  task: Task;
  /** Units per hidden layer: one or two layers. */
  hiddenLayers: number[];
  activation: Activation;
  optimizer: Optimizer;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on the weights (not the biases). */
  l2: number;
  testFraction: number;
  seed: number;
}

/** Close to scikit-learn's MLPClassifier defaults, scaled down (one layer of 32, not 100). */
export const DEFAULT_MLP_PARAMS: Omit<MlpParams, 'task'> = {
  hiddenLayers: [32],
  activation: 'relu',
  optimizer: 'adam',
  epochs: 200,
  batchSize: 32,
  learningRate: 0.01,
  l2: 1e-4,
  testFraction: 0.2,
  seed: 42,
};

/** The learned network exactly as stored in the graph (float32 values). */
export interface MlpModelParams {
  task: Task;
  activation: Activation;
  mean: number[];
  std: number[];
  /** One per layer (hidden layers, then the output layer): in x out, row-major, and out biases. */
  layers: { inputs: number; outputs: number; weights: number[]; bias: number[] }[];
  classes: Label[];
}

export interface MlpTrainResult {
  model: Uint8Array;
  params: MlpModelParams;
  metrics: Record<string, number>;
  history: EpochMetrics[];
  hyperparams: MlpParams;
  signature: Signature;
}

const f32 = Math.fround;

const activate = (activation: Activation, z: number) => (activation === 'relu' ? (z > 0 ? z : 0) : Math.tanh(z));

/** The TS forward pass of the exported graph, rounding to float32 where onnxruntime does. */
export function predictMlp(params: MlpModelParams, rows: number[][]): number[][] {
  const last = params.layers.length - 1;
  return rows.map((row) => {
    let a = params.mean.map((m, j) => f32(f32(f32(row[j]) - m) / params.std[j]));
    params.layers.forEach((layer, l) => {
      a = layer.bias.map((b, o) => {
        let s = 0;
        for (let i = 0; i < layer.inputs; i++) s += a[i] * layer.weights[i * layer.outputs + o];
        const z = f32(f32(s) + b);
        return l === last ? z : f32(activate(params.activation, z));
      });
    });
    return params.task === 'regression' ? a : softmax(a).map(f32);
  });
}

/**
 * A multi-layer perceptron (one or two hidden layers, ReLU or tanh) trained by mini-batch
 * Adam or SGD on standardised features, with a softmax output (classification) or a linear
 * one (regression). Deterministic for a seed: the split, the Glorot-uniform initial weights
 * and the order of the mini-batches all come from it. Exports a real ONNX graph:
 *   input -> Sub(mean) -> Div(std) -> [MatMul -> Add -> Relu|Tanh] x hidden -> MatMul -> Add
 *         -> Softmax -> probabilities -> ArgMax -> Gather(classes) -> label   (regression: -> predictions)
 */
export function trainMlp(data: TabularData, overrides: Partial<MlpParams> = {}): MlpTrainResult {
  return runToEnd(mlpTraining(data, overrides));
}

/** trainMlp as steps: yields after every mini-batch. */
export function* mlpTraining(data: TabularData, overrides: Partial<MlpParams> = {}): Generator<number, MlpTrainResult, void> {
  const task = overrides.task ?? inferTask(data.target);
  const hp: MlpParams = { ...DEFAULT_MLP_PARAMS, ...overrides, task };
  validate(hp);
  const n = data.features.length;
  const prepared = prepareData(data, task, hp);
  const { train, test, stored, Xtrain, Xtest, classes, classIndex, k, ys, yMean, yStd, yTrain } = prepared;

  const random = seededRandom(hp.seed ^ 0x9e3779b9);
  const sizes = [n, ...hp.hiddenLayers, k];
  const L = sizes.length - 1;
  const W = Array.from({ length: L }, (_, l) => {
    const limit = Math.sqrt(6 / (sizes[l] + sizes[l + 1]));
    return Float64Array.from({ length: sizes[l] * sizes[l + 1] }, () => (random() * 2 - 1) * limit);
  });
  const B = Array.from({ length: L }, (_, l) => new Float64Array(sizes[l + 1]));
  const optimizer = hp.optimizer === 'adam' ? adam([...W, ...B], hp.learningRate) : sgd(hp.learningRate);

  /** Pre-activations z and activations a of every layer (a[0] is the input). */
  const forward = (x: number[]) => {
    const a: number[][] = [x];
    const z: number[][] = [];
    for (let l = 0; l < L; l++) {
      const out = sizes[l + 1];
      const zl = new Array<number>(out);
      for (let o = 0; o < out; o++) {
        let s = B[l][o];
        for (let i = 0; i < sizes[l]; i++) s += a[l][i] * W[l][i * out + o];
        zl[o] = s;
      }
      z.push(zl);
      a.push(l === L - 1 ? (task === 'regression' ? zl : softmax(zl)) : zl.map((v) => activate(hp.activation, v)));
    }
    return { a, z };
  };
  const output = (x: number[]) => forward(x).a[L];
  const { lossOf, evaluate } = scoring(output, task, data, prepared);

  const history: EpochMetrics[] = [];
  const order = Array.from({ length: Xtrain.length }, (_, i) => i);
  let step = 0;
  for (let epoch = 1; epoch <= hp.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < order.length; start += hp.batchSize) {
      const batch = order.slice(start, start + hp.batchSize);
      const gW = W.map((w) => new Float64Array(w.length));
      const gB = B.map((b) => new Float64Array(b.length));
      for (const r of batch) {
        const { a, z } = forward(Xtrain[r]);
        // softmax + cross-entropy and identity + squared error share this output gradient.
        let delta = a[L].map((p, c) => (p - yTrain[r][c]) / batch.length);
        for (let l = L - 1; l >= 0; l--) {
          const out = sizes[l + 1];
          for (let i = 0; i < sizes[l]; i++) for (let o = 0; o < out; o++) gW[l][i * out + o] += a[l][i] * delta[o];
          for (let o = 0; o < out; o++) gB[l][o] += delta[o];
          if (l === 0) break;
          const previous = new Array<number>(sizes[l]);
          for (let i = 0; i < sizes[l]; i++) {
            let s = 0;
            for (let o = 0; o < out; o++) s += W[l][i * out + o] * delta[o];
            const derivative = hp.activation === 'relu' ? (z[l - 1][i] > 0 ? 1 : 0) : 1 - a[l][i] ** 2;
            previous[i] = s * derivative;
          }
          delta = previous;
        }
      }
      for (let l = 0; l < L; l++) for (let q = 0; q < W[l].length; q++) gW[l][q] += hp.l2 * W[l][q];
      optimizer([...W, ...B], [...gW, ...gB], ++step);
      yield step;
    }
    const entry: EpochMetrics = { epoch, loss: lossOf(Xtrain, yTrain) };
    if (Xtest.length > 0) {
      const v = evaluate(Xtest, test);
      if (task === 'regression') entry.val_rmse = v.rmse;
      else {
        entry.val_loss = v.log_loss;
        entry.val_accuracy = v.accuracy;
      }
    }
    history.push(entry);
  }

  // Regression fitted a standardised target: fold its scale into the output layer.
  const params: MlpModelParams = {
    task,
    activation: hp.activation,
    ...stored,
    layers: W.map((w, l) => {
      const isOutput = l === L - 1 && task === 'regression';
      return {
        inputs: sizes[l],
        outputs: sizes[l + 1],
        weights: Array.from(w, (v) => f32(isOutput ? v * yStd : v)),
        bias: Array.from(B[l], (v) => f32(isOutput ? v * yStd + yMean : v)),
      };
    }),
    classes,
  };
  const evalRows = Xtest.length > 0 ? test : train;
  const final = predictMlp(params, evalRows.map((i) => data.rows[i]));
  const metrics = {
    ...(task === 'regression'
      ? regressionMetrics(final.map((p) => p[0]), evalRows.map((i) => ys[i]))
      : classificationMetrics(final, evalRows.map((i) => classIndex.get(data.target[i])!))),
    train_loss: history[history.length - 1].loss,
    train_rows: train.length,
    test_rows: test.length,
    epochs: hp.epochs,
  };
  const model = exportMlp(params, data.features, hp);
  return { model, params, metrics, history, hyperparams: hp, signature: readModel(model).signature };
}

function validate(hp: MlpParams): void {
  const layers = hp.hiddenLayers;
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > 2 || !layers.every((u) => Number.isInteger(u) && u >= 1 && u <= 1024)) {
    throw new Error(`hiddenLayers must be one or two layer sizes, each an integer in [1, 1024] (got ${JSON.stringify(layers)})`);
  }
  if (hp.activation !== 'relu' && hp.activation !== 'tanh') throw new Error(`activation must be 'relu' or 'tanh' (got ${JSON.stringify(hp.activation)})`);
  if (hp.optimizer !== 'adam' && hp.optimizer !== 'sgd') throw new Error(`optimizer must be 'adam' or 'sgd' (got ${JSON.stringify(hp.optimizer)})`);
  if (!Number.isInteger(hp.epochs) || hp.epochs < 1) throw new Error(`epochs must be an integer >= 1 (got ${hp.epochs})`);
  if (!Number.isInteger(hp.batchSize) || hp.batchSize < 1) throw new Error(`batchSize must be an integer >= 1 (got ${hp.batchSize})`);
  if (!(hp.learningRate > 0)) throw new Error(`learningRate must be > 0 (got ${hp.learningRate})`);
}

type Update = (params: Float64Array[], grads: Float64Array[], step: number) => void;

function sgd(learningRate: number): Update {
  return (params, grads) => {
    params.forEach((p, t) => {
      for (let q = 0; q < p.length; q++) p[q] -= learningRate * grads[t][q];
    });
  };
}

/** Adam (Kingma & Ba) with the paper's defaults beta1 0.9, beta2 0.999, epsilon 1e-8. */
function adam(shapes: Float64Array[], learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): Update {
  const m = shapes.map((p) => new Float64Array(p.length));
  const v = shapes.map((p) => new Float64Array(p.length));
  return (params, grads, step) => {
    const correction1 = 1 - beta1 ** step;
    const correction2 = 1 - beta2 ** step;
    params.forEach((p, t) => {
      for (let q = 0; q < p.length; q++) {
        const g = grads[t][q];
        m[t][q] = beta1 * m[t][q] + (1 - beta1) * g;
        v[t][q] = beta2 * v[t][q] + (1 - beta2) * g * g;
        p[q] -= (learningRate * (m[t][q] / correction1)) / (Math.sqrt(v[t][q] / correction2) + epsilon);
      }
    });
  };
}

function exportMlp(params: MlpModelParams, features: string[], hp: MlpParams): Uint8Array {
  const n = params.mean.length;
  const regression = params.task === 'regression';
  const g = new GraphBuilder(regression ? 'mlp_regression' : 'mlp_classifier', 13)
    .input('input', DataType.FLOAT, ['N', n])
    .initializer(tensor('mean', [n], params.mean))
    .initializer(tensor('std', [n], params.std))
    .node('Sub', ['input', 'mean'], ['centered'])
    .node('Div', ['centered', 'std'], ['scaled']);
  let current = 'scaled';
  const last = params.layers.length - 1;
  params.layers.forEach((layer, l) => {
    const isOutput = l === last;
    const name = isOutput ? 'output' : `hidden${l + 1}`;
    g.initializer(tensor(`${name}_weights`, [layer.inputs, layer.outputs], layer.weights))
      .initializer(tensor(`${name}_bias`, [layer.outputs], layer.bias))
      .node('MatMul', [current, `${name}_weights`], [`${name}_matmul`]);
    const linear = isOutput ? (regression ? 'predictions' : 'logits') : `${name}_linear`;
    g.node('Add', [`${name}_matmul`, `${name}_bias`], [linear]);
    current = linear;
    if (!isOutput) {
      g.node(params.activation === 'relu' ? 'Relu' : 'Tanh', [linear], [`${name}_activation`]);
      current = `${name}_activation`;
    }
  });
  const metadata: Record<string, string> = {
    task: params.task,
    algorithm: 'mlp',
    hidden_layers: JSON.stringify(hp.hiddenLayers),
    activation: params.activation,
    ...featureNamesEntry(features),
  };
  if (regression) {
    g.output('predictions', DataType.FLOAT, ['N', 1]);
  } else {
    const k = params.classes.length;
    const integral = params.classes.every((c) => typeof c === 'number' && Number.isInteger(c));
    metadata.classes = JSON.stringify(params.classes);
    g.initializer(tensor('classes', [k], integral ? (params.classes as number[]) : params.classes.map((_, i) => i), DataType.INT64))
      .node('Softmax', ['logits'], ['probabilities'], { axis: 1 })
      .node('ArgMax', ['probabilities'], ['class_index'], { axis: 1, keepdims: 0 })
      .node('Gather', ['classes', 'class_index'], ['label'], { axis: 0 })
      .output('probabilities', DataType.FLOAT, ['N', k])
      .output('label', DataType.INT64, ['N']);
  }
  return g.encode(metadata);
}
