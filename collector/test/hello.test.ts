import t from 'tap'
import { hello } from '@maap-event-logger/collector'
t.equal(hello(2), 'big')
