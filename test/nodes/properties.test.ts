// Node properties naming environment variables: an unset `${VAR}` (left as
// is by a stock Node-RED) or a blank value means the node's default.
import assert from 'node:assert/strict';
import { countProperty, nodeFolder, portProperty, property } from '../../nodes/shared/properties';

describe('node properties', () => {
  it('takes the default for blanks and unset ${VAR}s, the value otherwise', () => {
    assert.equal(property('${SENSFLOW_SURVEY_HOST}', '0.0.0.0'), '0.0.0.0');
    assert.equal(property('', '0.0.0.0'), '0.0.0.0');
    assert.equal(property(undefined, '0.0.0.0'), '0.0.0.0');
    assert.equal(property(' 127.0.0.1 ', '0.0.0.0'), '127.0.0.1');
    assert.equal(property('x${A}', 'd'), 'x${A}');
  });

  it('reads ports and counts, naming the property when wrong', () => {
    assert.equal(portProperty('${SENSFLOW_SURVEY_UDP_PORT}', 10005, 'UDP port'), 10005);
    assert.equal(portProperty('8001', 1, 'p'), 8001);
    assert.equal(portProperty(0, 1, 'p'), 0);
    assert.throws(
      () => portProperty('70000', 1, 'UDP port'),
      /^Error: UDP port: "70000" is not a port number \(0-65535\)$/,
    );
    assert.throws(() => portProperty('80 01', 1, 'UDP port'), /"80 01" is not a port number/);
    assert.equal(countProperty('', 10, 1, 'n'), 10);
    assert.throws(
      () => countProperty('0', 10, 1, 'Keep at most'),
      /Keep at most: "0" is not a whole number of at least 1/,
    );
  });

  it('makes a folder name of a node id', () => {
    assert.equal(nodeFolder('sm-gateway'), 'sm-gateway');
    assert.equal(nodeFolder('a/../b c'), 'a_.._b_c');
  });
});
