import { TrafficSplit } from './traffic-split';

describe('traffic split: canary and shadow routes', () => {
  it('a shadow sits beside the stable version and replaces a canary; a canary replaces a shadow', () => {
    const split = new TrafficSplit();
    split.setStable('m', 1);
    split.setCanary('m', 2, 0.3);
    split.setShadow('m', 3);
    expect(split.route('m')).toEqual({ stable: 1, shadow: { version: 3 } });
    split.setCanary('m', 4, 0.2);
    expect(split.route('m')).toEqual({ stable: 1, canary: { version: 4, share: 0.2 } });
  });

  it('a shadow of the stable version itself changes nothing; a first version deployed as shadow takes all traffic', () => {
    const split = new TrafficSplit();
    split.setShadow('m', 1);
    expect(split.route('m')).toEqual({ stable: 1 });
    split.setShadow('m', 1);
    expect(split.route('m')).toEqual({ stable: 1 });
  });

  it('promotes or drops the shadow by version, and only the shadow', () => {
    const split = new TrafficSplit();
    split.setStable('m', 1);
    split.setShadow('m', 2);
    expect(split.drop('m', 1)).toBe(false);
    expect(split.promote('m', 3)).toBeUndefined();
    expect(split.promote('m', 2)).toBe(1);
    expect(split.route('m')).toEqual({ stable: 2 });
    split.setShadow('m', 3);
    expect(split.drop('m', 3)).toBe(true);
    expect(split.route('m')).toEqual({ stable: 2 });
  });

  it('a version loaded with activate does not take traffic from a stable version while a shadow is pending', () => {
    const split = new TrafficSplit();
    split.setStable('m', 1);
    split.setShadow('m', 2);
    split.activate('m', 5);
    expect(split.route('m')).toEqual({ stable: 1, shadow: { version: 2 } });
  });
});
