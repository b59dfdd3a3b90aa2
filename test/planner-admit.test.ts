import { describe, expect, it } from 'vitest';
import { admitMainValues, type Admission } from '../src/planner/admit-main-values.ts';

/** [member, main value it wants] in chunk order. */
type Candidate = [contactId: string, main: string];
/** [member, the member whose remote copy holds that value, whether the holder is giving it up]. */
type Claim = [contactId: string, holder: string, departing: boolean];

/** Admissions as [member, admission] pairs, in the order the function produced them. */
function admit(candidates: Candidate[], claims: Claim[] = []): [string, Admission][] {
  return [
    ...admitMainValues(
      candidates.map(([contactId, main]) => ({ contactId, main })),
      new Map(claims.map(([contactId, holder, departing]) => [contactId, { holder, departing }])),
    ),
  ];
}

const go: Admission = { kind: 'go' };
const release: Admission = { kind: 'release' };
const wait = (holder: string): Admission => ({ kind: 'wait', holder });
const duplicate = (holder: string): Admission => ({ kind: 'duplicate', holder });

describe('admitMainValues', () => {
  it.each<[string, Candidate[], Claim[], [string, Admission][]]>([
    ['admits nothing when nothing is asked', [], [], []],
    ['lets a value nobody holds go', [['a', '600']], [], [['a', go]]],
    [
      'lets unrelated values of one chunk all go',
      [
        ['a', '600'],
        ['b', '601'],
      ],
      [],
      [
        ['a', go],
        ['b', go],
      ],
    ],
    [
      'waits for a departing holder instead of failing (a number handed from one member to another)',
      [['a', '600']],
      [['a', 'b', true]],
      [['a', wait('b')]],
    ],
    [
      'refuses a value a staying member holds as a duplicate of that member',
      [['a', '600']],
      [['a', 'b', false]],
      [['a', duplicate('b')]],
    ],
    [
      'lets the first of two claims in one chunk win: the second is its duplicate',
      [
        ['a', '600'],
        ['b', '600'],
      ],
      [],
      [
        ['a', go],
        ['b', duplicate('a')],
      ],
    ],
    [
      'judges claims in chunk order, not by id: the first one wins',
      [
        ['b', '600'],
        ['a', '600'],
        ['c', '600'],
      ],
      [],
      [
        ['b', go],
        ['a', duplicate('b')],
        ['c', duplicate('b')],
      ],
    ],
    [
      'does not count a value someone waits for as taken in the chunk: both wait',
      [
        ['a', '600'],
        ['b', '600'],
      ],
      [
        ['a', 'h', true],
        ['b', 'h', true],
      ],
      [
        ['a', wait('h')],
        ['b', wait('h')],
      ],
    ],
    [
      'names the staying holder, not an earlier claim of the chunk, for a value held remotely',
      [
        ['a', '600'],
        ['b', '600'],
      ],
      [
        ['a', 'h', false],
        ['b', 'h', false],
      ],
      [
        ['a', duplicate('h')],
        ['b', duplicate('h')],
      ],
    ],
    [
      'lets a member whose own copy holds the value go (it claims its own value)',
      [['a', '600']],
      [['a', 'a', false]],
      [['a', go]],
    ],
    [
      'does not make a member read twice in one chunk a duplicate of itself',
      [
        ['a', '600'],
        ['a', '600'],
      ],
      [],
      [['a', go]],
    ],
    [
      'swaps two numbers: the smaller id releases its copy, the other waits for it',
      [
        ['a', '601'],
        ['b', '600'],
      ],
      [
        ['a', 'b', true],
        ['b', 'a', true],
      ],
      [
        ['a', release],
        ['b', wait('a')],
      ],
    ],
    [
      'swaps two numbers read in the other order: still the smaller id releases',
      [
        ['b', '600'],
        ['a', '601'],
      ],
      [
        ['a', 'b', true],
        ['b', 'a', true],
      ],
      [
        ['b', wait('a')],
        ['a', release],
      ],
    ],
    [
      'rotates three numbers: exactly one releaser, the smallest id',
      [
        ['b', '603'],
        ['c', '601'],
        ['a', '602'],
      ],
      [
        ['a', 'b', true],
        ['b', 'c', true],
        ['c', 'a', true],
      ],
      [
        ['b', wait('c')],
        ['c', wait('a')],
        ['a', release],
      ],
    ],
    [
      'breaks each of two separate cycles once, at its smallest id',
      [
        ['d', '1'],
        ['c', '2'],
        ['b', '3'],
        ['a', '4'],
      ],
      [
        ['a', 'b', true],
        ['b', 'a', true],
        ['c', 'd', true],
        ['d', 'c', true],
      ],
      [
        ['d', wait('c')],
        ['c', release],
        ['b', wait('a')],
        ['a', release],
      ],
    ],
    [
      'lets a member waiting on a cycle wait: only the cycle releases',
      [
        ['d', '601'],
        ['a', '601'],
        ['b', '600'],
      ],
      [
        ['d', 'b', true],
        ['a', 'b', true],
        ['b', 'a', true],
      ],
      [
        ['d', wait('b')],
        ['a', release],
        ['b', wait('a')],
      ],
    ],
    [
      'releases nothing along a chain that ends at a holder not waiting itself',
      [
        ['a', '601'],
        ['b', '602'],
      ],
      [
        ['a', 'b', true],
        ['b', 'c', true],
      ],
      [
        ['a', wait('b')],
        ['b', wait('c')],
      ],
    ],
    [
      'releases nothing when the holder a member waits for is not in the chunk',
      [['b', '600']],
      [['b', 'a', true]],
      [['b', wait('a')]],
    ],
    [
      'is no cycle when one of the two keeps its value: the other is its duplicate',
      [
        ['a', '601'],
        ['b', '600'],
      ],
      [
        ['a', 'b', true],
        ['b', 'a', false],
      ],
      [
        ['a', wait('b')],
        ['b', duplicate('a')],
      ],
    ],
    [
      'lets a released value be claimed after the cycle, not by a newcomer of the same chunk',
      [
        ['a', '601'],
        ['b', '600'],
        ['n', '600'],
      ],
      [
        ['a', 'b', true],
        ['b', 'a', true],
        ['n', 'a', true],
      ],
      [
        ['a', release],
        ['b', wait('a')],
        ['n', wait('a')],
      ],
    ],
  ])('%s', (_name, candidates, claims, expected) => {
    expect(admit(candidates, claims)).toEqual(expected);
  });

  it.each([
    ['a', 'b', 'c'],
    ['a', 'c', 'b'],
    ['b', 'a', 'c'],
    ['b', 'c', 'a'],
    ['c', 'a', 'b'],
    ['c', 'b', 'a'],
  ])(
    'picks the same single releaser of a rotation whatever the chunk order (%s %s %s)',
    (...order) => {
      const claims: Claim[] = [
        ['a', 'c', true],
        ['b', 'a', true],
        ['c', 'b', true],
      ];
      const got = new Map(
        admit(
          order.map((id): Candidate => [id, `main-${id}`]),
          claims,
        ),
      );
      expect(Object.fromEntries(got)).toEqual({ a: release, b: wait('a'), c: wait('b') });
    },
  );

  it('judges 2,000 members waiting in one chain ending in a cycle, walking each member once', () => {
    // m0000 waits on m0001, … m1999 waits on m1998: one long chain into a 2-cycle at its end.
    const n = 2000;
    const id = (i: number) => `m${String(i).padStart(4, '0')}`;
    const candidates: Candidate[] = Array.from({ length: n }, (_, i): Candidate => [id(i), `${i}`]);
    const claims: Claim[] = Array.from({ length: n }, (_, i): Claim => [
      id(i),
      i === n - 1 ? id(n - 2) : id(i + 1),
      true,
    ]);
    const started = performance.now();
    const got = admit(candidates, claims);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(got.filter(([, a]) => a.kind === 'release')).toEqual([[id(n - 2), release]]);
    expect(got.filter(([, a]) => a.kind === 'wait')).toHaveLength(n - 1);
  });

  it('admits every candidate exactly once, whatever its fate', () => {
    const got = admit(
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
        ['d', '3'],
        ['e', '5'],
      ],
      [
        ['a', 'b', true],
        ['b', 'a', true],
        ['c', 'x', true],
        ['e', 'y', false],
      ],
    );
    expect(got.map(([id, a]) => `${id}:${a.kind}`)).toEqual([
      'a:release',
      'b:wait',
      'c:wait',
      'd:go',
      'e:duplicate',
    ]);
  });
});

describe('admitMainValues across chunks', () => {
  const swapClaims = (me: string, holder: string) =>
    new Map([[me, { holder, departing: true, holderTakesMine: true }]]);

  it('releases the smaller member of a swap whose partner is read in another chunk', () => {
    const out = admitMainValues([{ contactId: 'a', main: '601' }], swapClaims('a', 'b'));
    expect([...out]).toEqual([['a', { kind: 'release' }]]);
  });

  it('lets the larger member of that swap wait, so only one side releases', () => {
    const out = admitMainValues([{ contactId: 'b', main: '600' }], swapClaims('b', 'a'));
    expect([...out]).toEqual([['b', { kind: 'wait', holder: 'a' }]]);
  });

  it('waits when the departing holder takes another value than the candidate’s', () => {
    const claims = new Map([['a', { holder: 'b', departing: true, holderTakesMine: false }]]);
    const out = admitMainValues([{ contactId: 'a', main: '601' }], claims);
    expect([...out]).toEqual([['a', { kind: 'wait', holder: 'b' }]]);
  });
});

describe('admitMainValues when two members claim one value and neither is confirmed', () => {
  const contested = (holder: string) =>
    ({ holder, departing: false, holderTakesMine: false, contested: true }) as const;

  it('lets the smaller id go and fails the larger, in one chunk', () => {
    const out = admitMainValues(
      [
        { contactId: 'c3', main: '603' },
        { contactId: 'c2', main: '603' },
      ],
      new Map([
        ['c2', contested('c3')],
        ['c3', contested('c2')],
      ]),
    );
    expect([...out]).toEqual([
      ['c3', { kind: 'duplicate', holder: 'c2' }],
      ['c2', { kind: 'go' }],
    ]);
  });

  it('decides the same way when each is read in a chunk of its own', () => {
    expect([
      ...admitMainValues([{ contactId: 'c2', main: '603' }], new Map([['c2', contested('c3')]])),
    ]).toEqual([['c2', { kind: 'go' }]]);
    expect([
      ...admitMainValues([{ contactId: 'c3', main: '603' }], new Map([['c3', contested('c2')]])),
    ]).toEqual([['c3', { kind: 'duplicate', holder: 'c2' }]]);
  });
});
