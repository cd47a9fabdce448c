/**
 * Every other zoo architecture, checked the same way (helpers.ts). The exact reference counts are
 * torchvision's / timm's `sum(p.numel() for p in model.parameters())` for the same architecture at
 * 1000 classes: matching them to the unit says the layer table was followed, not just approximated.
 */
import { describeArchitecture } from './helpers.js';

describeArchitecture('resnet18', { referenceLearnedParams: 11_689_512 });
describeArchitecture('resnet50', { referenceLearnedParams: 25_557_032 });
describeArchitecture('mobilenet_v1');
describeArchitecture('mobilenet_v2', { referenceLearnedParams: 3_504_872 });
describeArchitecture('mobilenet_v3_large', { referenceLearnedParams: 5_483_032 });
describeArchitecture('mobilenet_v3_small', { referenceLearnedParams: 2_542_856 });
describeArchitecture('efficientnet_b0', { referenceLearnedParams: 5_288_548 });
describeArchitecture('ghostnet');
