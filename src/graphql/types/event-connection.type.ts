import { InboundEvent } from '../../domain/event-log/inbound-event.entity';
import { connectionType } from './connection.type';

export const EventConnection = connectionType(InboundEvent, 'Event');
